"""Fast JSON text in and out for the hot paths (input lines, stored rows), via orjson.

Decoding an event line and encoding a lot's provenance were a fifth of the append path's
per-event time with the standard library's ``json``; orjson does both in about a third.
Hashed and signed bytes never come from here: they are RFC 8785 (``canonical``).

orjson is stricter than ``json`` where JSON itself is (no NaN or Infinity literals, no lone
surrogates), and reads an integer beyond 64 bits as the nearest double, as JavaScript does.
Such an integer has no RFC 8785 form, so the append path refuses the event either way: its
leaf and signature check decode with the standard library, exactly.
"""

from __future__ import annotations

from typing import Any

import orjson

DecodeError = orjson.JSONDecodeError


def loads(text: str | bytes) -> Any:
    """Decode one JSON document; raises ``DecodeError`` (a ``json.JSONDecodeError``)."""
    return orjson.loads(text)


def dumps(value: Any) -> str:
    """Compact JSON text (no spaces, UTF-8 characters as they are)."""
    return orjson.dumps(value).decode("utf-8")
