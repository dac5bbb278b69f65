"""The demo's tour: it explains its words and ends with commands that work as printed."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from cli_support import run
from raretrace.cli.tour import EVENT_WORDS, STATUS_WORDS

pytestmark = pytest.mark.integration


def test_the_tour_explains_its_terms_and_its_next_commands_run(tmp_path: Path) -> None:
    built = run("demo", "--events", "1500", "--log-dir", "demo-log", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    text = built.stdout
    for kind in ("extract", "ship", "receive", "transform"):
        assert f"  {kind} " in text and EVENT_WORDS[kind] in text, kind
    for status in ("active", "consumed"):
        assert f"  {status} " in text and STATUS_WORDS[status] in text, status
    assert "(shares of the Nd in this lot)" in text
    commands = [
        line.strip() for line in text.split("Next, try:")[1].splitlines()
        if line.startswith("  raretrace ")
    ]  # fmt: skip
    assert [c.split()[3] if c.startswith("raretrace --db") else c.split()[1] for c in commands] == [
        "trace", "lots", "discrepancies", "export", "verify", "audit",
    ]  # fmt: skip
    for command in commands:  # exactly as printed, in the folder the demo ran in
        done = run(*shlex.split(command)[1:], cwd=tmp_path)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    verified = run(*shlex.split(commands[4])[1:], cwd=tmp_path).stdout
    assert verified.startswith("VERIFIED: lot ")
