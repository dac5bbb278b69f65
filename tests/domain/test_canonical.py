"""``canonical_json`` produces the RFC 8785 (JCS) bytes: the same as the ``rfc8785`` library.

Vectors are from RFC 8785 §3.2.2 (the worked example), §3.2.3 (property sorting) and
Appendix B (number serialization, given as IEEE 754 bit patterns).
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import orjson
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from json_support import exact_value
from raretrace.domain import canonical
from raretrace.domain.canonical import canonical_json, decode_canonical
from raretrace.domain.errors import ValidationError

# RFC 8785 Appendix B: IEEE 754 double (hex) -> ECMAScript serialization.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),  # minus zero
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def _double(hex_bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(hex_bits))[0]
    return value


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B)
def test_rfc8785_appendix_b_numbers(bits: str, expected: str) -> None:
    x = _double(bits)
    assert canonical_json(x) == expected.encode()
    assert rfc8785.dumps(x) == expected.encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_rfc8785_appendix_b_nan_and_infinity_are_errors(bits: str) -> None:
    with pytest.raises(ValidationError) as info:
        canonical_json(_double(bits))
    assert info.value.rule == "format"


def test_rfc8785_section_3_2_2_example() -> None:
    text = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    value = json.loads(text)
    assert canonical_json(value) == expected.encode("utf-8")
    assert canonical_json(value) == rfc8785.dumps(value)


def test_rfc8785_section_3_2_3_property_sorting() -> None:
    value = json.loads(
        '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet'
        ' With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080":'
        ' "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}'
    )
    out = json.loads(canonical_json(value))
    # UTF-16 code unit order: the emoji's surrogate pair (0xD83D) sorts before U+FB33.
    assert list(out) == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert canonical_json(value) == rfc8785.dumps(value)


def test_cyberphone_readme_example() -> None:
    value = json.loads(
        '{"numbers": [1E30,4.50,6,2e-3,0.000000000000000000000000001],'
        ' "escaping": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "other": [null, true, false]}'
    )
    expected = (
        '{"escaping":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/","numbers":[1e+30,4.5,6,0.002,1e-27],'
        '"other":[null,true,false]}'
    )
    assert canonical_json(value) == expected.encode("utf-8")


def test_control_characters_use_short_escapes_and_lowercase_hex() -> None:
    assert (
        canonical_json("\b\t\n\f\r\x01\x1f\x7f\u2028")
        == b'"\\b\\t\\n\\f\\r\\u0001\\u001f\x7f\xe2\x80\xa8"'
    )


def test_unknown_types_are_refused() -> None:
    with pytest.raises(ValidationError):
        canonical_json({"a": {1, 2}})
    with pytest.raises(ValidationError):
        canonical_json(b"bytes")


def test_non_string_key_is_refused_with_validation_error() -> None:
    with pytest.raises(ValidationError):
        canonical_json({1: "a"})


def test_lone_surrogate_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        canonical_json("\ud800")
    assert info.value.rule == "format"


def test_safe_integers_match_and_beyond_are_refused() -> None:
    for n in (2**53 - 1, -(2**53 - 1), 0, -1):
        assert canonical_json(n) == rfc8785.dumps(n)
    with pytest.raises(ValidationError):
        canonical_json(2**53 + 1)


@pytest.mark.parametrize("n", [2**53, -(2**53)])
def test_integer_at_2_pow_53_is_refused_like_rfc8785(n: int) -> None:
    with pytest.raises(rfc8785.IntegerDomainError):
        rfc8785.dumps(n)
    with pytest.raises(ValidationError):
        canonical_json(n)


# -- Hypothesis: agreement with the reference library ------------------------------------------

_finite = st.floats(allow_nan=False, allow_infinity=False)
_extreme = st.builds(
    lambda m, e: math.ldexp(m, e),
    st.floats(min_value=0.5, max_value=1.0, exclude_max=True),
    st.integers(min_value=-1074, max_value=1023),
)
_numbers = st.one_of(
    _finite,
    _extreme,
    _extreme.map(lambda x: -x),
    st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1),
    st.sampled_from([1e21, 1e-7, 1e-6, 1e20, 123456789012345680000.0, 5e-324, 2.0**53]),
)
_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_scalars = st.one_of(st.none(), st.booleans(), _numbers, _text)
json_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(_text, inner, max_size=5),
    ),
    max_leaves=15,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_canonical_json_equals_rfc8785(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@settings(max_examples=150, deadline=None)
@given(st.one_of(_finite, _extreme, _extreme.map(lambda x: -x)))
def test_float_serialization_equals_rfc8785_and_round_trips(x: float) -> None:
    out = canonical_json(x)
    assert out == rfc8785.dumps(x)
    assert float(out) == x


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_text, st.integers(0, 9), min_size=2, max_size=8))
def test_keys_sorted_by_utf16_code_units(value: dict[str, int]) -> None:
    out = json.loads(canonical_json(value))
    keys = list(out)
    assert keys == sorted(value, key=lambda k: k.encode("utf-16-be"))
    assert out == value


# -- decode_canonical: the orjson route gives exactly the exact route's result ------------------


def _exact_route(text: str, without: str | None) -> tuple[Any, bytes, bytes | None]:
    value = json.loads(text)
    if without is not None and type(value) is dict and without in value:
        rest = {k: v for k, v in value.items() if k != without}
        return value, canonical_json(value), canonical_json(rest)
    return value, canonical_json(value), None


def _outcome(route: Any, text: str, without: str | None) -> tuple[str, Any]:
    try:
        _, full, cut = route(text, without)
    except ValidationError as exc:
        return "refused", exc.rule
    except ValueError:
        return "not JSON", None
    return "ok", (full, cut)


# Values where orjson's output is not RFC 8785's (integral floats, exponents written out by
# ECMAScript, integers past 2^53 and past 2^64, keys ordered differently by code point and by
# UTF-16 code unit), each inside an object with and without a "sig" member.
_TRICKY = [
    "1000.0", "-0.0", "0.0", "1e16", "1.5e16", "9007199254740992.0", "1e21",
    "4.823040373928001e-06", "1e-7", "0.000001", "5e-324", "1.7976931348623157e308",
    "9007199254740991",
    "9007199254740992", "-9007199254740992", "18446744073709551615", "18446744073709551616",
    "123456789012345678901234567890", "NaN", "Infinity", "1e400", '"\\ud800"', '"\\ufb33"',
    '"\\ud83d\\ude00"', '"x.0,y"', '"3e+5"', "[1.0]", '{"\\ufb33": 1, "\\ud83d\\ude00": 2}',
]  # fmt: skip


@pytest.mark.parametrize("value", _TRICKY)
@pytest.mark.parametrize("without", [None, "sig"])
def test_decode_canonical_equals_the_exact_route_on_tricky_values(
    value: str, without: str | None
) -> None:
    for text in (
        value,
        f'{{"a": {value}, "sig": {{"k": {value}}}}}',
        f'{{"sig": 1, "z": {value}}}',
    ):
        assert _outcome(decode_canonical, text, without) == _outcome(_exact_route, text, without)


_wide_numbers = st.one_of(
    _numbers,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=2**53 - 2, max_value=2**64 + 2).map(lambda n: n * (-1) ** (n % 2)),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: float(round(x))),
)
_wide_text = st.text(st.characters(), max_size=12)  # lone surrogates included
_wide_values = st.recursive(
    st.one_of(st.none(), st.booleans(), _wide_numbers, _wide_text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(_wide_text, st.just("sig")), inner, max_size=5),
    ),
    max_leaves=15,
)


@settings(max_examples=400, deadline=None)
@given(_wide_values, st.sampled_from([None, "sig"]), st.booleans())
def test_decode_canonical_equals_the_exact_route(
    value: Any, without: str | None, ascii_only: bool
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    outcome = _outcome(decode_canonical, text, without)
    assert outcome == _outcome(_exact_route, text, without)
    if outcome[0] == "ok":  # and the decoded value is the standard library's, float for float
        assert exact_value(decode_canonical(text, without)[0]) == exact_value(json.loads(text))


def test_the_fast_route_is_on_with_this_orjson_and_off_with_one_that_writes_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert canonical._orjson_agrees() and canonical._FAST_ROUTE
    real = orjson.dumps

    class OtherOrjson:  # a release that wrote 123.456 as 123.4560 would be caught
        JSONEncodeError = orjson.JSONEncodeError

        @staticmethod
        def dumps(value: Any, option: int = 0) -> bytes:
            return real(value, option=option).replace(b"123.456", b"123.4560")

    monkeypatch.setattr(canonical, "orjson", OtherOrjson)
    assert not canonical._orjson_agrees()


def test_without_the_fast_route_the_result_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    text = '{"sig": {"kid": "k"}, "b": 123.456, "a": [1, "x"]}'
    fast = decode_canonical(text, "sig")
    monkeypatch.setattr(canonical, "_FAST_ROUTE", False)
    assert decode_canonical(text, "sig") == fast
