"""Run many ``raretrace`` command lines quickly, each as a real process of its own.

``python tests/cli/fork_driver.py CASES.json RESULTS.json`` imports raretrace once, then forks
one child per case: the child changes to the case's folder, runs ``raretrace.cli.main.main``
with the case's arguments, its standard output and error going to files, and exits with the
code ``main`` gives, or with the traceback and code 1 the interpreter would print for an
uncaught exception. Before and after each case the driver hashes every file under the case's
``watch`` folder, so a case that created, removed or changed a file is reported.

A process started per case (``python -m raretrace``) costs ~0.4 s of imports; a fork costs
milliseconds, which keeps a walk of a few hundred bad command lines well under a minute.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any


def snapshot(root: Path) -> dict[str, str]:
    """Every file (its SHA-256) and folder under ``root``, by relative path."""
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(folder, name), root) + "/"] = "folder"
        for name in files:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, root)] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return found


def _child(args: list[str], cwd: str, out: int, err: int) -> None:
    os.chdir(cwd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    signal.alarm(120)  # a case that waits for input fails instead of hanging the walk
    sys.argv = ["raretrace", *args]
    code = 1
    try:
        from raretrace.cli.main import main

        main()
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, int) or exc.code is None:
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    """Run one case; its exit code, output, and the files it changed."""
    watch = Path(case["watch"])
    before = snapshot(watch)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(case["args"], case["cwd"], out.fileno(), err.fileno())
        _, status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    after = snapshot(watch)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return {
        **case,
        "code": os.waitstatus_to_exitcode(status),
        "stdout": stdout,
        "stderr": stderr,
        "changed": changed,
    }


def main() -> None:
    cases = json.loads(Path(sys.argv[1]).read_text())
    from raretrace.cli.main import full_app

    full_app()  # every command module imported once, before the forks

    results = [run_case(case) for case in cases]
    Path(sys.argv[2]).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
