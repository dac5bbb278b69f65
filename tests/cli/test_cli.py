"""The command line, run as a user runs it: a real process, real files, real exit codes."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_support import run
from raretrace.demo.generate import write_demo
from raretrace.store.store import Store

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REGISTRY = FIXTURES / "example_registry.json"
EVENTS = FIXTURES / "example_events.jsonl"


@pytest.fixture
def ledger_dir(tmp_path: Path) -> Path:
    assert run("init", "--allow-unsigned", cwd=tmp_path).returncode == 0
    assert run("registry", "load", str(REGISTRY), cwd=tmp_path).returncode == 0
    return tmp_path


def test_the_formats_example_end_to_end(ledger_dir: Path) -> None:
    done = run("ingest", str(EVENTS), cwd=ledger_dir)
    assert done.returncode == 0, done.stderr
    assert "accepted 5, rejected 0, discrepancies 0" in done.stdout
    traced = run("trace", "NDPR-1", "--json", cwd=ledger_dir)
    view = json.loads(traced.stdout)
    assert view["lot"] == "NDPR-1" and view["form"] == "oxide" and view["mass_kg"] == 104.0
    assert view["origin"]["by_country"] == {"Pr": {"AU": 1.0}, "Nd": {"AU": 1.0}}
    assert view["origin"]["by_mine"]["Nd"] == {"AU-MTWELD": 1.0}
    assert view["recycled_share"] == {"Pr": 0.0, "Nd": 0.0}
    assert [p["stage"] for p in view["path"]] == ["mine", "separation"]
    table = run("trace", "NDPR-1", cwd=ledger_dir)
    assert "AU-MTWELD" in table.stdout and "mine AU-MTWELD (AU) → separation" in table.stdout


def test_rejected_lines_go_to_the_rejects_file_and_exit_1(ledger_dir: Path) -> None:
    lines = EVENTS.read_text().splitlines()
    bad = json.loads(lines[3])
    bad["outputs"][0]["elements_kg"]["Nd"] = 80.0
    bad["outputs"][0]["mass_kg"] = 115.0
    stream = ledger_dir / "events.jsonl"
    stream.write_text("\n".join([*lines[:3], "{not json", json.dumps(bad), *lines[3:]]) + "\n")
    done = run("ingest", str(stream), "--rejects", "rejects.jsonl", cwd=ledger_dir)
    assert done.returncode == 1
    assert "accepted 5, rejected 2" in done.stdout
    assert "Traceback" not in done.stderr
    rejects = [json.loads(x) for x in (ledger_dir / "rejects.jsonl").read_text().splitlines()]
    assert [(r["line"], r["rule"]) for r in rejects] == [(4, "format"), (5, "mass-balance")]
    assert "Nd: inputs 69.93 kg, outputs + losses 80.13 kg" in rejects[1]["message"]
    assert rejects[1]["event_id"] == "e4"


def test_user_errors_are_one_line_and_verbose_shows_the_traceback(ledger_dir: Path) -> None:
    missing = run("trace", "NOPE", cwd=ledger_dir)
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        "error: lot 'NOPE' is not in the ledger; list lots with `raretrace lots`"
    )
    verbose = run("--verbose", "trace", "NOPE", cwd=ledger_dir)
    assert "Traceback" in verbose.stderr and "NotFound" in verbose.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [(("ingest",), "Missing argument"), (("lots", "--bogus"), "No such option: --bogus")],
)
def test_usage_errors_show_the_usage_and_exit_2(
    ledger_dir: Path, args: tuple[str, ...], message: str
) -> None:
    done = run(*args, cwd=ledger_dir)
    assert done.returncode == 2
    assert message in done.stderr and "Usage: raretrace" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_uninitialised_database_asks_for_init(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()  # an empty file is an empty SQLite database
    done = run("--db", str(tmp_path / "empty.db"), "lots", cwd=tmp_path)
    assert done.returncode == 2
    assert "run `raretrace init` first" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


@pytest.mark.parametrize("command", [["lots"], ["trace", "X"], ["ingest", str(EVENTS)]])
def test_a_missing_ledger_is_named_and_never_created(tmp_path: Path, command: list[str]) -> None:
    done = run("--db", "typo.db", *command, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        2,
        "error: there is no ledger at 'typo.db': the file does not exist; make one with"
        " `raretrace init` (or try `raretrace demo`), or check --db / $RARETRACE_DB\n",
    )
    assert list(tmp_path.iterdir()) == []


def test_bad_registry_names_the_record_and_changes_nothing(ledger_dir: Path) -> None:
    bad = json.loads(REGISTRY.read_text())
    bad["facilities"].append({**bad["facilities"][0], "id": "X-1", "operator": "nobody"})
    path = ledger_dir / "bad.json"
    path.write_text(json.dumps(bad))
    done = run("registry", "load", str(path), cwd=ledger_dir)
    assert done.returncode == 1
    assert "[unknown-participant] facility 'X-1'" in done.stderr
    listing = run("facilities", cwd=ledger_dir)
    assert "X-1" not in listing.stdout and "MY-GEBENG" in listing.stdout


def test_listing_commands_and_the_env_var(tmp_path: Path) -> None:
    env = {"RARETRACE_DB": str(tmp_path / "via-env.db")}
    assert run("init", "--allow-unsigned", cwd=tmp_path, env=env).returncode == 0
    assert run("registry", "load", str(REGISTRY), cwd=tmp_path, env=env).returncode == 0
    events = EVENTS.read_text().splitlines()
    short = json.loads(events[2])
    short["mass_kg"] = 950.0
    (tmp_path / "e.jsonl").write_text("\n".join([events[0], events[1], json.dumps(short)]))
    done = run("ingest", "e.jsonl", cwd=tmp_path, env=env)
    assert "discrepancies 1" in done.stdout
    assert (tmp_path / "via-env.db").exists() and not (tmp_path / "raretrace.db").exists()
    lots = run("lots", "--facility", "MY-GEBENG", "--form", "concentrate", cwd=tmp_path, env=env)
    assert "MW-1" in lots.stdout
    none = run("lots", "--form", "magnet", cwd=tmp_path, env=env)
    assert "MW-1" not in none.stdout
    found = run("discrepancies", "--json", cwd=tmp_path, env=env)
    (row,) = [json.loads(x) for x in found.stdout.splitlines()]
    assert (row["lot"], row["from"], row["to"], row["delta_kg"]) == (
        "MW-1", "AU-MTWELD", "MY-GEBENG", -50.0,
    )  # fmt: skip


def test_demo_builds_tours_and_writes_files_that_ingest_again(tmp_path: Path) -> None:
    done = run("demo", "--events", "3000", "--write", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3,000 events" in done.stdout and "0 rejected" in done.stdout
    assert "Trace of magnet lot" in done.stdout
    assert (tmp_path / "raretrace-demo.db").exists()
    again = run("demo", "--events", "3000", cwd=tmp_path)  # the demo replaces its own ledger
    assert again.returncode == 0, again.stderr
    db = ["--db", "copy.db"]
    assert run(*db, "init", "--allow-unsigned", cwd=tmp_path).returncode == 0
    assert run(*db, "registry", "load", "out/registry.json", cwd=tmp_path).returncode == 0
    ingested = run(*db, "ingest", "out/events.jsonl", cwd=tmp_path)
    assert "accepted 3000, rejected 0" in ingested.stdout


def test_the_demo_keeps_its_log_keys_out_of_the_working_tree(tmp_path: Path) -> None:
    data = Path(os.environ["XDG_DATA_HOME"])  # pytest's folder (tests/conftest.py)
    done = run("demo", "--events", "60", "--db", "keys.db", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (log_dir,) = [d for d in (data / "raretrace" / "demo-logs").glob("*/keys-log")
                  if f"is in {d} (outside this folder" in done.stdout]  # fmt: skip
    assert (log_dir / "log.key").exists() and (log_dir / "registry.key").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys-charts", "keys.db"]  # + tour's
    assert not list((tmp_path / "keys-charts").glob("*.key"))


def test_a_demo_that_cannot_be_built_leaves_nothing(tmp_path: Path) -> None:
    too_few = run("demo", "--events", "10", cwd=tmp_path)
    assert too_few.returncode == 2 and "Traceback" not in too_few.stderr
    assert "Invalid value for '--events'" in too_few.stderr
    (tmp_path / "taken").write_text("a file, not a folder")
    done = run("demo", "--events", "60", "--write", "taken/sub", cwd=tmp_path)  # fails midway
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_lots_filters_must_name_something_that_exists(ledger_dir: Path) -> None:
    bogus = run("lots", "--status", "bogus", cwd=ledger_dir)
    assert bogus.returncode == 2
    assert "'bogus' is not one of: active, in_transit, consumed, written_off" in bogus.stderr
    assert "'powder' is not one of: ore," in run("lots", "--form", "powder", cwd=ledger_dir).stderr
    assert run("lots", "--limit", "-5", cwd=ledger_dir).returncode == 2
    near = run("lots", "--facility", "my-gebeng", cwd=ledger_dir)
    assert (near.returncode, near.stderr) == (
        2,
        "error: facility 'my-gebeng' is not in the registry; did you mean MY-GEBENG? list them"
        " with `raretrace facilities`\n",
    )


def test_demo_refuses_to_overwrite_a_real_ledger(ledger_dir: Path) -> None:
    done = run("demo", "--db", "raretrace.db", "--events", "100", cwd=ledger_dir)
    assert done.returncode == 2
    assert "is not a demo ledger" in done.stderr


def _commands(helped: str) -> set[str]:
    """The command names a ``--help`` lists under "Commands:"."""
    return set(re.findall(r"^  ([a-z][a-z-]*) ", helped.split("\nCommands:\n")[1], re.M))


def test_every_command_in_the_readme_exists_and_every_command_is_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    documented = set(re.findall(r"`raretrace ([a-z][a-z-]*)", readme))
    listed = _commands(run("--help", cwd=Path.cwd()).stdout)
    assert listed == documented, (listed - documented, documented - listed)
    for group, subcommands in {"log": {"checkpoint", "vkey", "prove", "consistency", "migrate"},
                               "witness": {"keygen", "cosign"}}.items():  # fmt: skip
        helped = run(group, "--help", cwd=Path.cwd()).stdout
        assert _commands(helped) == subcommands


def _sigint_as_at_a_terminal() -> None:
    """Ctrl-C's default in the child. A suite started as a background job (``.ci/run &``)
    inherits SIGINT ignored, and a Python started so keeps ignoring it, as POSIX asks."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_during_an_ingest_says_what_was_kept_and_how_to_go_on(tmp_path: Path) -> None:
    registry, events = write_demo(tmp_path / "demo", 20_000)
    assert run("init", "--allow-unsigned", cwd=tmp_path).returncode == 0
    assert run("registry", "load", str(registry), cwd=tmp_path).returncode == 0
    store = Store.open(str(tmp_path / "raretrace.db"))
    registry_size = store.size()
    env = {k: v for k, v in os.environ.items() if k != "RARETRACE_DB"}
    ingest = subprocess.Popen(
        [sys.executable, "-m", "raretrace", "ingest", str(events), "--batch-size", "500"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_sigint_as_at_a_terminal,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    # Interrupt after the first of 40 batches, so a loaded machine cannot let the whole run
    # finish before the signal lands (a CI run under load once saw that with 2,000-event ones)
    while store.size() < registry_size + 500:
        assert ingest.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    ingest.send_signal(signal.SIGINT)
    out, err = ingest.communicate(timeout=60)
    assert ingest.returncode == 130, (out, err)
    found = re.search(r"interrupted: (\d+) events were committed before it", err)
    assert found, err
    assert "Run the same command again to go on" in err and "Traceback" not in err
    assert store.size() == registry_size + int(found.group(1)) < registry_size + 20_000
    again = run("ingest", str(events), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"already present {found.group(1)}" in again.stdout


def test_an_unreachable_database_server_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://nobody@127.0.0.1:{port}/ledger"
    for command in (["init"], ["lots"], ["ingest", str(EVENTS)]):  # writing and reading paths
        done = run(*command, "--db", url, cwd=tmp_path)
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.startswith(f"error: cannot use database '{url}': connection failed")
        assert "check --db / $RARETRACE_DB" in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
