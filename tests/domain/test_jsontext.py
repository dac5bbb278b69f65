"""The fast JSON codec reads and writes exactly what the standard library does.

The append path parses lines with ``jsontext`` while leaves and signatures come from the
standard library's reading: the two must agree on every value that has an RFC 8785 form.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from json_support import exact_value
from raretrace.domain import jsontext

_SAFE = 2**53 - 1
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-_SAFE, _SAFE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(values, st.booleans())
def test_decoding_agrees_with_the_standard_library(value: Any, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert exact_value(jsontext.loads(text)) == exact_value(json.loads(text))
    assert exact_value(jsontext.loads(text.encode("utf-8"))) == exact_value(json.loads(text))


@given(values)
def test_encoding_round_trips_through_the_standard_library(value: Any) -> None:
    assert exact_value(json.loads(jsontext.dumps(value))) == exact_value(value)


def test_encoding_is_compact_and_keeps_characters() -> None:
    assert jsontext.dumps({"a": [1, 2.5], "b": "Quảng Ninh"}) == '{"a":[1,2.5],"b":"Quảng Ninh"}'


@pytest.mark.parametrize(
    "text", ["", "not json", '{"a": 1', '{"a": NaN}', '{"a": Infinity}', '["\\ud800"]']
)
def test_what_is_not_strict_json_is_refused(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        jsontext.loads(text)
    assert caught.value.msg and caught.value.colno >= 1
