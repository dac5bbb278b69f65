"""``--help`` as a user reads it, at a fixed width: flags take no value, options name theirs,
and help text in brackets (``[env: ...; default: ...]``) survives.

Typer's Rich help dropped bracketed text and, from Typer 0.27, printed types as ``<str>``
(0.29: after flags too); the CLI uses plain help with explicit metavars, and the Typer range
in pyproject.toml is the one these tests pass on.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from cli_support import run

pytestmark = pytest.mark.integration

PLAIN = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def _every_command() -> list[tuple[str, ...]]:
    """The root and every command and subcommand the app has, as typed on the command line."""
    import typer.main

    from raretrace.cli.main import full_app

    found: list[tuple[str, ...]] = [()]

    def walk(command: Any, path: tuple[str, ...]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            found.append((*path, name))
            walk(sub, (*path, name))

    walk(typer.main.get_command(full_app()), ())
    return found


COMMANDS = _every_command()

#: What Typer prints for a type when no metavar is given: <str>, <int>, <path>, <bool>,
#: <list[Path]>, <int range>, ...
TYPE_PLACEHOLDER = re.compile(r"<(str|int|float|bool|path|list\[[^\]]*\]|[a-z]+ range)>")


def _help(tmp_path: Path, *command: str) -> str:
    done = run(*command, "--help", cwd=tmp_path, env=PLAIN)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def _options(text: str) -> dict[str, str]:
    """Each option's first help line: the part before its help text ('--limit N', '--json')."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"^  ((?:-\w, )?--[\w-]+(?: \S+)?)(?:\s{2,}(.*))?$", line)
        if match:
            spelled = match.group(1)
            found[re.findall(r"--[\w-]+", spelled)[0]] = spelled
    return found


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "raretrace")
def test_no_command_shows_a_typer_type_placeholder(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    text = _help(tmp_path, *command)
    assert TYPE_PLACEHOLDER.search(text) is None, text
    assert "Traceback" not in text
    assert max(len(line) for line in text.splitlines()) <= 100, text


def test_root_help(tmp_path: Path) -> None:
    text = _help(tmp_path)
    options = _options(text)
    assert options["--db"] == "--db FILE|URL"
    assert options["--verbose"] == "-v, --verbose"  # a flag: no value after it
    assert options["--version"] == "--version"
    assert "[env: RARETRACE_DB; default: raretrace.db]" in _flat(text)
    for command in ("init", "ingest", "trace", "lots", "facilities", "verify", "demo"):
        assert re.search(rf"^  {command} +\S", text, re.M), command


def test_lots_help(tmp_path: Path) -> None:
    text = _help(tmp_path, "lots")
    assert _options(text) == {
        "--db": "--db FILE|URL",
        "--facility": "--facility FACILITY",
        "--form": "--form FORM",
        "--status": "--status STATUS",
        "--limit": "--limit N",
        "--json": "--json",
        "--help": "--help",
    }
    flat = _flat(text)
    assert "[env: RARETRACE_DB; default: raretrace.db]" in flat
    assert "active, in_transit, consumed, written_off" in flat
    assert "[default: 100" in flat


def test_trace_help(tmp_path: Path) -> None:
    text = _help(tmp_path, "trace")
    usage = text.splitlines()[0]
    # Typer 0.27 and later write a required argument in braces: {LOT}
    assert re.fullmatch(r"Usage: raretrace trace \[OPTIONS\] \{?LOT\}?", usage), usage
    assert re.search(r"^  LOT +Lot id\.", text, re.M), text
    assert _options(text) == {"--db": "--db FILE|URL", "--json": "--json", "--help": "--help"}


def test_ingest_help(tmp_path: Path) -> None:
    text = _help(tmp_path, "ingest")
    assert re.search(r"^  FILE +Events, one JSON object a line\.", text, re.M), text
    options = _options(text)
    assert options["--rejects"] == "--rejects FILE"
    assert options["--batch-size"] == "--batch-size N"


def test_flags_are_single_switches(tmp_path: Path) -> None:
    """Yes/no options are one switch (no --no-... twin that pushes the help aside)."""
    assert _options(_help(tmp_path, "init"))["--allow-unsigned"] == "--allow-unsigned"
    assert _options(_help(tmp_path, "audit"))["--require-signatures"] == "--require-signatures"
    assert _options(_help(tmp_path, "export"))["--cosigned"] == "--cosigned"


def test_version(tmp_path: Path) -> None:
    done = run("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout == f"raretrace {metadata.version('raretrace')}\n"
    assert not list(tmp_path.iterdir())  # nothing opened, nothing created


def test_the_installed_typer_is_in_the_tested_range() -> None:
    """pyproject.toml's Typer range is what these tests were written against."""
    major, minor = (int(x) for x in metadata.version("typer").split(".")[:2])
    assert (0, 26) <= (major, minor) < (0, 29)
