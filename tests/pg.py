"""A throwaway PostgreSQL 15 server for the test suite.

Used by ``tests/conftest.py``; kept in its own module so the fixtures stay short.
PostgreSQL refuses to run as root, so when the tests run as root every server
binary is started as the ``postgres`` OS user (``subprocess`` ``user=``/``group=``,
which does setgroups/setgid/setuid in the child before exec). As any other user the
binaries run as that user directly.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PG_BINDIR = Path(os.environ.get("RARETRACE_PG_BINDIR", "/usr/lib/postgresql/15/bin"))
INSTALL_HINT = (
    "PostgreSQL 15 server binaries not found in {bindir} (need initdb, pg_ctl, postgres). "
    "Store tests always run against a real PostgreSQL: install them with "
    "`apt-get update && apt-get install -y postgresql-15` "
    "(or set RARETRACE_PG_BINDIR to a directory holding the PostgreSQL 15 binaries)."
)
SERVER_USER = "postgres"  # database superuser created by initdb, and OS user when root


class PgSetupError(RuntimeError):
    """The throwaway server could not be provided; the message says why."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _world_traversable(path: Path) -> bool:
    """True if every ancestor of ``path`` can be traversed by another user."""
    for p in [path, *path.parents]:
        try:
            if not os.stat(p).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


@dataclass
class PgServer:
    """One initdb'ed, running cluster in a private temp directory."""

    root: Path
    port: int
    host: str = "127.0.0.1"
    run_as: dict[str, Any] = field(default_factory=dict)
    running: bool = False

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def sockdir(self) -> Path:
        return self.root / "sock"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{SERVER_USER}@{self.host}:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user={SERVER_USER} dbname={dbname}"

    # -- process control -------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        # Output goes to a file, never a pipe: the postmaster forked by `pg_ctl start`
        # would inherit a pipe and keep it open, hanging the read.
        out = self.root / "cmd.out"
        with open(out, "w") as fh:
            proc = subprocess.run(
                args,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                timeout=timeout,
                text=True,
                check=False,
                **self.run_as,
            )
        proc.stdout = out.read_text(errors="replace")
        return proc

    def _check(self, proc: subprocess.CompletedProcess[str], what: str) -> None:
        if proc.returncode != 0:
            log = ""
            if self.logfile.exists():
                log = "\n--- server log ---\n" + self.logfile.read_text(errors="replace")[-4000:]
            raise PgSetupError(
                f"{what} failed (exit {proc.returncode}): {' '.join(map(str, proc.args))}\n"
                f"{proc.stdout}{log}"
            )

    def initdb(self) -> None:
        self.sockdir.mkdir(mode=0o700)
        if self.run_as:
            os.chown(self.sockdir, self.run_as["user"], self.run_as["group"])
        proc = self._run(
            str(PG_BINDIR / "initdb"),
            "-D", str(self.datadir),
            "-U", SERVER_USER,
            "-A", "trust",
            "-E", "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )  # fmt: skip
        self._check(proc, "initdb")

    def start(self) -> None:
        opts = " ".join(
            [
                f"-p {self.port}",
                f"-c listen_addresses={self.host}",
                f"-c unix_socket_directories='{self.sockdir}'",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        self.running = True  # from here on, stop() must try to clean up
        proc = self._run(
            str(PG_BINDIR / "pg_ctl"),
            "start", "-w", "-t", "30",
            "-D", str(self.datadir),
            "-l", str(self.logfile),
            "-o", opts,
        )  # fmt: skip
        self._check(proc, "pg_ctl start")

    def wait_ready(self, timeout: float = 30) -> None:
        """Wait until a TCP connection to the postgres database succeeds."""
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.conninfo(), connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise PgSetupError(f"server on port {self.port} not ready: {exc}") from exc
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (immediate mode); idempotent; kills it if pg_ctl cannot."""
        if not self.running:
            return
        self.running = False
        pidfile = self.datadir / "postmaster.pid"
        if not pidfile.exists():
            return
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            self._run(
                str(PG_BINDIR / "pg_ctl"), "stop", "-m", "immediate", "-w", "-t", "30",
                "-D", str(self.datadir),
            )  # fmt: skip
        # Belt and braces: if the postmaster is still around, kill it.
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pidfile.read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- databases -------------------------------------------------------------------

    def create_database(self, name: str | None = None) -> str:
        import psycopg
        from psycopg import sql

        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
            )
        return name

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _run_as_kwargs() -> dict[str, Any]:
    if os.geteuid() != 0:
        return {}
    try:
        pw = pwd.getpwnam(SERVER_USER)
    except KeyError as exc:
        raise PgSetupError(
            f"tests run as root but there is no {SERVER_USER!r} OS user to run PostgreSQL as; "
            "it is created by `apt-get install -y postgresql-15`"
        ) from exc
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def _make_root(run_as: dict[str, Any]) -> Path:
    base: str | None = None
    if run_as and not _world_traversable(Path(tempfile.gettempdir())):
        base = "/tmp"  # the postgres user must be able to reach the directory
    root = Path(tempfile.mkdtemp(prefix="raretrace-pg-", dir=base))
    if run_as:
        os.chown(root, run_as["user"], run_as["group"])
    return root


def _destroy_on_sigterm(server: PgServer) -> None:
    """atexit hooks do not run when the test run is killed by SIGTERM (CI timeouts)."""
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        return  # someone else handles SIGTERM; atexit is the fallback then

    def handler(signum: int, frame: object) -> None:
        server.destroy()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, handler)


def start_server(attempts: int = 3) -> PgServer:
    """initdb + start a server on a free 127.0.0.1 port; caller must ``destroy()`` it.

    An atexit hook also destroys it, so an interrupted session leaks nothing.
    """
    missing = [b for b in ("initdb", "pg_ctl", "postgres") if not (PG_BINDIR / b).is_file()]
    if missing:
        raise PgSetupError(INSTALL_HINT.format(bindir=PG_BINDIR))
    run_as = _run_as_kwargs()
    root = _make_root(run_as)
    server = PgServer(root=root, port=0, run_as=run_as)
    atexit.register(server.destroy)
    _destroy_on_sigterm(server)
    try:
        server.initdb()
        for attempt in range(attempts):
            server.port = _free_port()
            try:
                server.start()
                break
            except PgSetupError:
                # Most likely someone grabbed the port between probe and bind; retry.
                server.stop()
                if attempt == attempts - 1:
                    raise
        server.wait_ready()
    except BaseException:
        server.destroy()
        raise
    return server
