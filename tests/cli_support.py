"""Running the command line as a user does: a real process, in a folder of the test's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m raretrace ARGS`` in ``cwd``; RARETRACE_DB only if ``env`` sets it."""
    full_env = {k: v for k, v in os.environ.items() if k != "RARETRACE_DB"}
    full_env.update({"COLUMNS": "200", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "raretrace", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
