"""The rule packs are pure: everything in raretrace.compliance imports only domain (and
itself), except the adapter and the service, the one seam to the ledger; the CLI command
reaches the packs only through the service."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import raretrace.compliance

PACKAGE = Path(raretrace.compliance.__file__).parent
PURE = ("raretrace.compliance", "raretrace.domain")
SEAM = {"adapter.py", "service.py"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {m for m in found if m == "raretrace" or m.startswith("raretrace.")}


def test_packs_evidence_and_facts_import_only_domain() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) >= 12
    for path in modules:
        if path.name in SEAM and path.parent == PACKAGE:
            continue
        wrong = {m for m in _imports(path) if not m.startswith(PURE)}
        assert not wrong, f"{path.relative_to(PACKAGE)} imports {sorted(wrong)}"


def test_the_cli_command_calls_the_service_only() -> None:
    cli = Path(raretrace.compliance.__file__).parents[1] / "cli" / "checkcmd.py"
    ours = {m for m in _imports(cli) if m.startswith("raretrace.compliance")}
    assert ours <= {"raretrace.compliance", "raretrace.compliance.packs"}


def test_importing_the_packs_loads_no_database_code() -> None:
    code = (
        "import sys, raretrace.compliance.packs; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'sqlalchemy', 'alembic'}"
        " or m.startswith(('raretrace.store', 'raretrace.ledger'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
