"""RFC 8785 (JCS) canonical JSON, fast enough for the append path.

The reference library ``rfc8785`` is exact but walks values in pure Python at about 100 µs
per event, which alone would cap ingest near 10,000 events/s. This encoder produces the same
bytes (the test suite checks it against ``rfc8785`` with Hypothesis and the RFC's examples)
by leaning on the C string encoder of ``json`` and formatting numbers per RFC 8785 §3.2.2.3
(ECMAScript Number.prototype.toString).

JSON text (an event line, a stored leaf) is decoded and canonicalised faster still by
``decode_canonical``: orjson's sorted compact output is already RFC 8785's in all but a few
recognisable cases, and those go through the encoder above.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from raretrace.domain.errors import ValidationError

# The C implementation of JSON string escaping without ASCII escaping; it escapes exactly
# what RFC 8785 §3.2.2.2 requires (", \, control characters with the short forms where JSON
# has them and \u00xx lowercase otherwise).
_encode_str = json.encoder.c_encode_basestring or json.encoder.py_encode_basestring  # type: ignore[attr-defined]
_MAX_SAFE = 2**53


def _number(x: float) -> str:
    if not math.isfinite(x):
        raise ValidationError("format", "number", f"{x!r} has no JSON form (RFC 8785 §3.2.2.3)")
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < _MAX_SAFE:
        return str(int(x))
    text = repr(x)
    if "e" not in text and "E" not in text and not x.is_integer():
        return text
    return _es_format(x)


def _es_format(x: float) -> str:
    """ECMAScript Number::toString for the cases where Python's repr differs."""
    sign = "-" if x < 0 else ""
    # Shortest round-trip digits come from repr; recover digits and exponent from it.
    r = repr(abs(x))
    if "e" in r:
        m, _, e = r.partition("e")
        digits = m.replace(".", "")
        exp = int(e) - (len(m.split(".")[0]) - 1) if "." in m else int(e)
    else:
        int_part, _, frac = r.partition(".")
        frac = frac.rstrip("0")
        digits = (int_part + frac).lstrip("0")
        exp = len(int_part) - 1 if int_part != "0" else -(len(frac) - len(frac.lstrip("0")) + 1)
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    n = exp + 1  # position of the decimal point, as in ECMA-262 §6.1.6.1.20
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    exponent = n - 1
    exp_str = f"e+{exponent}" if exponent >= 0 else f"e-{-exponent}"
    if k == 1:
        return sign + digits + exp_str
    return sign + digits[0] + "." + digits[1:] + exp_str


def _sort_key(key: str) -> bytes:
    return key.encode("utf-16-be")


def _encode(value: Any, out: list[str]) -> None:
    t = type(value)
    if t is str:
        out.append(_encode_str(value))
    elif t is dict:
        keys = list(value)
        for k in keys:
            if type(k) is not str:
                raise ValidationError("format", "object key", f"{k!r} is not a string")
        if all(k.isascii() for k in keys):
            keys.sort()
        else:
            keys.sort(key=_sort_key)
        out.append("{")
        first = True
        for k in keys:
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(k))
            out.append(":")
            _encode(value[k], out)
        out.append("}")
    elif t is list or t is tuple:
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif t is float:
        out.append(_number(value))
    elif t is bool:
        out.append("true" if value else "false")
    elif t is int:
        if abs(value) >= _MAX_SAFE:
            raise ValidationError(
                "format",
                "number",
                f"{value} is outside ±(2^53-1), the I-JSON range RFC 8785 §3.2.2.3 requires",
            )
        out.append(str(value))
    elif value is None:
        out.append("null")
    else:
        raise ValidationError("format", "value", f"{value!r} has no JSON form")


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value."""
    out: list[str] = []
    _encode(value, out)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "format", "string", "contains a lone surrogate, which RFC 8785 §3.2.2.2 forbids"
        ) from None


def canonical_with_and_without(value: dict[str, Any], member: str) -> tuple[bytes, bytes]:
    """Canonical bytes of an object, and of the same object without one top-level member.

    A signed event needs both: its leaf (with ``sig``) and what was signed (without). One
    pass encodes each member once.
    """
    keys = list(value)
    for k in keys:
        if type(k) is not str:
            raise ValidationError("format", "object key", f"{k!r} is not a string")
    keys.sort(key=None if all(k.isascii() for k in keys) else _sort_key)
    parts: list[tuple[str, str]] = []
    for k in keys:
        out: list[str] = [_encode_str(k), ":"]
        _encode(value[k], out)
        parts.append((k, "".join(out)))
    full = "{" + ",".join(p for _, p in parts) + "}"
    without = "{" + ",".join(p for k, p in parts if k != member) + "}"
    try:
        return full.encode("utf-8"), without.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "format", "string", "contains a lone surrogate, which RFC 8785 §3.2.2.2 forbids"
        ) from None


# Where orjson's compact sorted output can differ from RFC 8785, by the bytes it writes:
# - an integral float (``1000.0``, ``-0.0``: followed by a delimiter, or ending the text),
#   which RFC 8785 writes ``1000``, ``0``;
# - an exponent: orjson writes ``1e+16`` and ``4.8e-6`` where ECMAScript writes the digits;
# - a character at or above U+E000 (UTF-8 lead bytes EE-F4), which can order keys otherwise
#   (orjson sorts by code point, RFC 8785 by UTF-16 code unit).
# Integers beyond ±(2^53-1), which RFC 8785 refuses, make orjson's strict mode raise. A match
# inside a string costs only the exact route.
_INTEGRAL_FLOAT = re.compile(rb"\.0[,}\]]").search
_EXPONENT_SIGN = re.compile(rb"e[-+]").search
_EXPONENT = re.compile(rb"\de[-+]").search
_HIGH_CHARACTER = re.compile(rb"[\xee-\xf4]").search
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def _orjson_canonical(value: Any) -> bytes | None:
    """RFC 8785 bytes of a value decoded by orjson, or None where orjson's might differ.

    Only for values orjson decoded: those hold no NaN, infinity or lone surrogate, which
    orjson would otherwise write as ``null`` or refuse. (Regular expressions with a literal
    start scan these ~500-byte texts faster than ``bytes in``.)
    """
    try:
        out = orjson.dumps(value, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return None
    if _INTEGRAL_FLOAT(out) or out.endswith(b".0") or (_EXPONENT_SIGN(out) and _EXPONENT(out)):
        return None
    if not out.isascii() and _HIGH_CHARACTER(out):
        return None
    return out


# Values whose RFC 8785 form orjson must write unchanged wherever the checks above let its
# output through: fractions of every magnitude the fast route sees, every kind of escape,
# non-ASCII text, key order, integers up to the limit.
_PROBES: list[Any] = [
    [0.1, -0.5, 0.30000000000000004, 123.456, -98765.4321, 0.0001234, 1.5e-4, 4503599627370495.5],
    ['\u0000\u001f\b\t\n\f\r"\\/\u007f\u2028', "Quảng Ninh €", ""],
    {"b": 1, "a": {"z": None, "y": [True, False]}, "aa": 2, "B": 3, "é": 4, "ü": 5, "ß": 6},
    [0, -1, 2**53 - 1, -(2**53 - 1), 1234567890123],
]


def _orjson_agrees() -> bool:
    """Whether the installed orjson writes the probes as RFC 8785 does.

    The checks above describe orjson's output as of this release line; if a future release
    wrote numbers or strings otherwise, the fast route is switched off rather than trusted.
    """
    for value in _PROBES:
        fast = _orjson_canonical(value)
        if fast is None or fast != canonical_json(value):
            return False
    return True


_FAST_ROUTE = _orjson_agrees()


def _orjson_route(text: str | bytes, without: str | None) -> tuple[Any, bytes, bytes | None] | None:
    """``decode_canonical`` through orjson, or None where the exact route must decide."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None  # maybe JSON that orjson is stricter about
    full = _orjson_canonical(value)
    if full is None:
        return None
    if without is None or type(value) is not dict or without not in value:
        return value, full, None
    rest = dict(value)
    del rest[without]
    # Every byte pattern the checks look for that could occur in this output occurs in
    # ``full`` too (a member's text is the same in both), so it needs no check.
    return value, full, orjson.dumps(rest, option=_OPTIONS)


def decode_canonical(
    text: str | bytes, without: str | None = None
) -> tuple[Any, bytes, bytes | None]:
    """Decode JSON text; return the value, its RFC 8785 bytes, and, if ``without`` is given
    and the value is an object holding that member, the bytes of the object without it.

    Raises ``ValueError`` for text that is not JSON and ``ValidationError`` for a value with
    no RFC 8785 form, as ``json.loads`` and ``canonical_json`` do: the result is exactly
    theirs (the tests compare the two routes on arbitrary JSON), only faster.
    """
    fast = _orjson_route(text, without) if _FAST_ROUTE else None
    if fast is not None:
        return fast
    value = json.loads(text)
    if without is not None and type(value) is dict and without in value:
        full, cut = canonical_with_and_without(value, without)
        return value, full, cut
    return value, canonical_json(value), None
