"""The facts the packs rest on, read from packaged JSON files (``raretrace/data/
compliance-<pack>.json``): element lists, dates, thresholds, country lists, reference prices,
each with its sources and the date the file was last reviewed. Nothing of the law is in code.

A facts file that is missing or malformed is a ConfigError naming the file and the key.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from raretrace.domain.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Facts:
    """One facts file: ``doc`` is its JSON; the getters check types and name what is wrong."""

    name: str
    doc: Mapping[str, Any]

    @property
    def reviewed(self) -> str:
        """The date (YYYY-MM-DD) the file was last reviewed against its sources."""
        return self.date("reviewed").isoformat()

    def _get(self, path: str) -> Any:
        node: Any = self.doc
        for key in path.split("."):
            if not isinstance(node, Mapping) or key not in node:
                raise ConfigError(f"facts file {self.name}: no {path!r}; restore the packaged file")
            node = node[key]
        return node

    def _bad(self, path: str, expected: str) -> ConfigError:
        return ConfigError(
            f"facts file {self.name}: {path!r} must be {expected}, got {self._get(path)!r}"
        )

    def text(self, path: str) -> str:
        value = self._get(path)
        if not isinstance(value, str) or not value:
            raise self._bad(path, "a non-empty string")
        return value

    def date(self, path: str) -> dt.date:
        value = self._get(path)
        try:
            return dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            raise self._bad(path, "a date YYYY-MM-DD") from None

    def optional_date(self, path: str) -> dt.date | None:
        return None if self._get(path) is None else self.date(path)

    def number(self, path: str) -> float:
        value = self._get(path)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._bad(path, "a number")
        if not math.isfinite(value) or value < 0:
            raise self._bad(path, "a finite number >= 0")
        return float(value)

    def strings(self, path: str) -> tuple[str, ...]:
        value = self._get(path)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._bad(path, "a list of strings")
        return tuple(value)

    def items(self, path: str) -> tuple[Facts, ...]:
        """A list of objects, each as Facts (for dated entries such as suspensions)."""
        value = self._get(path)
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self._bad(path, "a list of objects")
        return tuple(Facts(f"{self.name} {path}[{i}]", v) for i, v in enumerate(value))

    def prices(self, path: str) -> dict[str, float]:
        """element -> USD per kg of contained element."""
        value = self._get(path)
        if not isinstance(value, Mapping):
            raise self._bad(path, "an object of element -> USD per kg")
        return {str(e): self.number(f"{path}.{e}") for e in value}


@functools.cache
def load_facts(name: str) -> Facts:
    """The packaged facts file ``compliance-<name>.json`` (read and checked once a process:
    the packaged files do not change while it runs, and a server checks many lots; a file
    that fails is not kept, so every call names the problem)."""
    filename = f"compliance-{name}.json"
    try:
        text = (files("raretrace") / "data" / filename).read_text(encoding="utf-8")
        doc = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"facts file {filename} cannot be read ({exc}); reinstall raretrace"
        ) from None
    if not isinstance(doc, Mapping):
        raise ConfigError(f"facts file {filename} must hold a JSON object; reinstall raretrace")
    facts = Facts(filename, doc)
    facts.reviewed  # noqa: B018 - every file must say when it was reviewed
    return facts
