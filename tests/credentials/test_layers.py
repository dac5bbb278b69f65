"""The credentials package imports only domain, log and the offline bundle verifier
(``raretrace.verify``, ``raretrace.trust``: no database code) and libraries: never store,
ledger or CLI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import raretrace.credentials

PACKAGE = Path(raretrace.credentials.__file__).parent
ALLOWED = (
    "raretrace.credentials",
    "raretrace.domain",
    "raretrace.log",
    "raretrace.verify",
    "raretrace.trust",
)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_credentials_imports_nothing_outside_domain_log_and_the_bundle_verifier() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 10
    for path in modules:
        ours = {m for m in _imports(path) if m == "raretrace" or m.startswith("raretrace.")}
        wrong = {m for m in ours if not m.startswith(ALLOWED)}
        assert not wrong, f"{path.name} imports {sorted(wrong)}"


def test_importing_the_verifier_loads_no_database_code() -> None:
    code = (
        "import sys, raretrace.credentials; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'sqlalchemy', 'psycopg',"
        " 'alembic'} or m.startswith(('raretrace.store', 'raretrace.ledger'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
