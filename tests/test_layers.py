"""The layers, read from the imports (``ast``): one line per package of ``raretrace``.

Arrows point inward (docs/architecture.md, "Layers"): ``domain`` imports only itself; the
Merkle log library only itself and the error family; the edges (``cli``, ``api``) reach the
database only through ``raretrace.service`` and never import the store's tables or
SQLAlchemy; nothing below an edge imports an edge. A new package fails
``test_every_package_has_a_rule`` until it is given its line in ``RULES``.

``tests/credentials/test_layers.py`` and ``tests/compliance/test_layers.py`` additionally
prove that importing those packages' pure parts loads no database code at run time.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import raretrace

ROOT = Path(raretrace.__file__).parent
EDGES = ("raretrace.cli", "raretrace.api")
DATABASE = ("raretrace.store", "sqlalchemy", "alembic", "psycopg")


@dataclass(frozen=True)
class Rule:
    """What the modules of one package may import: only ``allowed`` prefixes of raretrace (if
    given), never the ``forbidden`` ones (of raretrace or libraries)."""

    allowed: tuple[str, ...] | None = None
    forbidden: tuple[str, ...] = ()


#: Per package (or top-level module): its rule. ``None`` allowed = any raretrace module
#: outside ``forbidden``.
RULES: dict[str, Rule] = {
    "domain": Rule(allowed=("raretrace.domain",), forbidden=DATABASE),
    "log": Rule(allowed=("raretrace.log", "raretrace.domain.errors"), forbidden=DATABASE),
    "verify.py": Rule(allowed=("raretrace.domain", "raretrace.log", "raretrace.trust")),
    "trust.py": Rule(allowed=("raretrace.domain", "raretrace.log")),
    "credentials": Rule(
        allowed=(
            "raretrace.credentials",
            "raretrace.domain",
            "raretrace.log",
            "raretrace.verify",
            "raretrace.trust",
        ),
        forbidden=DATABASE,
    ),
    "store": Rule(allowed=("raretrace.store", "raretrace.domain")),
    "ledger": Rule(forbidden=(*EDGES, "raretrace.service")),
    "compliance": Rule(forbidden=(*EDGES, "raretrace.service")),
    "analytics": Rule(forbidden=(*EDGES, "raretrace.service")),
    "interop": Rule(forbidden=(*EDGES, "raretrace.service")),
    "demo": Rule(forbidden=(*EDGES, "raretrace.service", "raretrace.store")),
    "service": Rule(forbidden=EDGES),
    "clearinghouse": Rule(forbidden=EDGES),  # service functions of docs/clearinghouse.md
    "cli": Rule(forbidden=DATABASE),  # servecmd starts the API
    "api": Rule(forbidden=(*DATABASE, "raretrace.cli")),
    "web": Rule(forbidden=(*DATABASE, "raretrace.cli")),  # an edge, mounted by the API
    "__init__.py": Rule(forbidden=EDGES),
    "__main__.py": Rule(allowed=("raretrace.cli",)),
}
#: Modules of a package held to a stricter rule than the package: the compliance packs are
#: pure functions of evidence (only ``adapter.py`` and ``service.py`` reach the ledger).
STRICTER: dict[str, Rule] = {
    "compliance/packs": Rule(allowed=("raretrace.compliance", "raretrace.domain")),
    "compliance/evidence.py": Rule(allowed=("raretrace.compliance", "raretrace.domain")),
    "compliance/facts.py": Rule(allowed=("raretrace.compliance", "raretrace.domain")),
}


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (also inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "raretrace":  # from raretrace import service: the subpackage
                found.update(f"raretrace.{alias.name}" for alias in node.names)
    return found


def _matches(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _broken(path: Path, rule: Rule) -> set[str]:
    """The imports of ``path`` that ``rule`` does not allow."""
    wrong = set()
    for module in _imports(path):
        ours = module.startswith("raretrace.")
        outside = ours and rule.allowed is not None and not _matches(module, rule.allowed)
        if outside or _matches(module, rule.forbidden):
            wrong.add(module)
    return wrong


def _package(path: Path) -> str:
    return path.relative_to(ROOT).parts[0]


def _rule_for(path: Path) -> Rule:
    relative = path.relative_to(ROOT).as_posix()
    for prefix, rule in STRICTER.items():
        if relative == prefix or relative.startswith(prefix + "/"):
            return rule
    return RULES[_package(path)]


MODULES = sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.parts)


def test_every_package_has_a_rule() -> None:
    packages = {_package(p) for p in MODULES}
    assert packages <= set(RULES), f"give {sorted(packages - set(RULES))} a line in RULES"
    for needed in ("domain", "log", "cli", "api", "service", "store", "ledger"):
        assert needed in packages, f"raretrace.{needed} is gone: update RULES"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports_point_inward(path: Path) -> None:
    wrong = _broken(path, _rule_for(path))
    assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


def test_the_rules_catch_what_they_are_for(tmp_path: Path) -> None:
    """The checker itself: each kind of wrong import is found."""
    cases = {
        "from raretrace.store import schema\n": RULES["cli"],
        "import sqlalchemy\n": RULES["api"],
        "from sqlalchemy.exc import OperationalError\n": RULES["cli"],
        "from raretrace.ledger.append import Ledger\n": RULES["log"],
        "from raretrace.store.store import Store\n": RULES["log"],
        "from raretrace.cli.main import app\n": RULES["log"],
        "from raretrace.ledger import service\n": RULES["domain"],
        "from raretrace.api import app\n": RULES["service"],
        "def f():\n    from raretrace.store.schema import lots\n": RULES["api"],
    }
    for source, rule in cases.items():
        module = tmp_path / "m.py"
        module.write_text(source)
        assert _broken(module, rule), source
    module.write_text("from raretrace.domain.errors import NotFound\n")
    assert not _broken(module, RULES["log"])
    assert not _broken(module, RULES["domain"])
