"""The interchange formats are pure: every module of raretrace.interop imports only domain,
the credentials package (the UNTP credential) and itself, except the seam (``ledgerread``:
reads the store; ``service``: what the CLI calls). The CLI module reaches interop only
through the service (and the result types it renders)."""

from __future__ import annotations

import ast
from pathlib import Path

import raretrace.interop

PACKAGE = Path(raretrace.interop.__file__).parent
PURE = ("raretrace.interop", "raretrace.domain", "raretrace.credentials")
SEAM = {"ledgerread.py", "service.py"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {m for m in found if m == "raretrace" or m.startswith("raretrace.")}


def test_format_modules_import_only_domain_credentials_and_interop() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 8
    for path in modules:
        if path.name in SEAM:
            continue
        wrong = {m for m in _imports(path) if not m.startswith(PURE)}
        assert not wrong, f"{path.name} imports {sorted(wrong)}"


def test_the_seam_writes_nothing() -> None:
    """ledgerread reads; only the ledger's own load path (``raretrace.ledger.service``)
    writes, and the seam never names the append module or the table writes."""
    for name in SEAM:
        imported = _imports(PACKAGE / name)
        assert not {m for m in imported if m.startswith(("raretrace.ledger.writes",
                                                          "raretrace.ledger.append"))}  # fmt: skip
        assert "insert(" not in (PACKAGE / name).read_text()


def test_the_cli_module_calls_the_service() -> None:
    cli = PACKAGE.parent / "cli" / "interopcmd.py"
    ours = {m for m in _imports(cli) if m.startswith("raretrace.interop")}
    assert ours <= {"raretrace.interop", "raretrace.interop.service",
                    "raretrace.interop.epcis_import"}  # fmt: skip
    assert not {m for m in _imports(cli) if m.startswith(("raretrace.store", "raretrace.ledger"))}
