"""The one id rule (``raretrace.domain.ids``), and that every id the ledger reads follows it:
events, registry records and key ids; also the range checks on facility numbers."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from examples import example_events
from raretrace.domain.errors import ValidationError
from raretrace.domain.events import parse_event
from raretrace.domain.ids import MAX_ID_LENGTH, check_id, id_problem
from raretrace.domain.registry import MAX_CAPACITY_T_PER_YEAR, parse_registry

E1, E2, E3, E4, E5 = example_events()

GOOD = ["MW-1", "lynas-my", "Lot 7", "北方稀土-1", "Ñandú/2025", "a", "x" * MAX_ID_LENGTH]
#: Characters that are invisible or change how the text around them is displayed.
HIDDEN = [
    *(chr(c) for c in range(0x202A, 0x202F)),  # bidi embeddings and overrides (U+202E: RLO)
    *(chr(c) for c in range(0x2066, 0x206A)),  # bidi isolates
    "\u200e", "\u200f", "\u061c",  # LRM, RLM, Arabic letter mark
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad",  # zero-width, BOM, soft hyphen
    "\x00", "\x07", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9b",  # C0, DEL, C1 controls
    "\u2028", "\u2029",  # line and paragraph separators
    "\ud800",  # a lone surrogate
]  # fmt: skip


@pytest.mark.parametrize("value", GOOD)
def test_good_ids(value: str) -> None:
    assert id_problem(value) is None
    assert check_id(value, "event 'e'", "lot") == value


@pytest.mark.parametrize("char", HIDDEN, ids=lambda c: f"U+{ord(c):04X}")
def test_hidden_and_control_characters_are_refused_anywhere(char: str) -> None:
    for value in (f"MW{char}1", f"{char}MW-1", f"MW-1{char}"):
        problem = id_problem(value)
        assert problem is not None and f"U+{ord(char):04X}" in problem, value
        with pytest.raises(ValidationError) as info:
            check_id(value, "event 'e'", "lot")
        exc = info.value
        assert (exc.rule, exc.subject) == ("bad-id", "event 'e'")
        # The message shows the character escaped, so the message itself is not reversed.
        assert char not in exc.message or char.isspace()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (" MW-1", "whitespace"),
        ("MW-1 ", "whitespace"),
        ("MW-1\u3000", "whitespace"),
        ("\u00a0MW-1", "whitespace"),
        ("x" * (MAX_ID_LENGTH + 1), f"{MAX_ID_LENGTH + 1} characters long, more than 200"),
    ],
)
def test_ends_and_length(value: str, words: str) -> None:
    problem = id_problem(value)
    assert problem is not None and words in problem


@pytest.mark.parametrize("value", [None, 7, "", "   ", ["MW-1"]])
def test_missing_or_blank_is_the_callers_shape_rule(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        check_id(value, "facility 'F'", "operator", rule="registry-format")
    assert info.value.rule == "registry-format"
    assert "field 'operator' must be a non-empty string" in info.value.detail


def test_the_message_names_the_field_the_problem_and_the_rule() -> None:
    with pytest.raises(ValidationError) as info:
        check_id("MW\u202e1-GEBENG", "event 'e2'", "lot")
    assert info.value.message == (
        "[bad-id] event 'e2': lot 'MW\\u202e1-GEBENG' contains U+202E (RIGHT-TO-LEFT OVERRIDE),"
        " an invisible or control character that changes how the id is displayed; an id is"
        " 1-200 characters with no whitespace at either end and no control or invisible"
        " formatting characters (docs/formats.md, Ids)"
    )


# -- every id field of every event ---------------------------------------------------------------

EVENT_ID_FIELDS = [
    (E1, ("id",), "event"),
    (E1, ("actor",), "event 'e1'"),
    (E1, ("facility",), "event 'e1'"),
    (E1, ("outputs", 0, "lot"), "event 'e1' outputs[0]"),
    (E2, ("lot",), "event 'e2'"),
    (E2, ("from",), "event 'e2'"),
    (E2, ("to",), "event 'e2'"),
    (E2, ("consignee",), "event 'e2'"),
    (E3, ("lot",), "event 'e3'"),
    (E3, ("facility",), "event 'e3'"),
    (E4, ("facility",), "event 'e4'"),
    (E4, ("inputs", 0, "lot"), "event 'e4' inputs[0]"),
    (E4, ("outputs", 1, "lot"), "event 'e4' outputs[1]"),
    (E5, ("lot",), "event 'e5'"),
]


def _edit(event: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(event)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


@pytest.mark.parametrize(
    ("event", "path", "subject"),
    EVENT_ID_FIELDS,
    ids=lambda x: str(x) if isinstance(x, str) else None,
)
@pytest.mark.parametrize("bad", ["\u202eMW-1", "MW-1\n", " MW-1", "x" * 201])
def test_every_id_in_an_event_follows_the_rule(
    event: dict[str, Any], path: tuple[Any, ...], subject: str, bad: str
) -> None:
    with pytest.raises(ValidationError) as info:
        parse_event(_edit(event, path, bad))
    assert (info.value.rule, info.value.subject) == ("bad-id", subject)
    assert info.value.detail.startswith(f"{path[-1]} ")


# -- registry records ---------------------------------------------------------------------------

KEY = {"kid": "k-1", "public_key": "A" * 43 + "=", "valid_from": "2025-01-01T00:00:00Z"}
PARTICIPANT = {"id": "lynas-my", "name": "Lynas Malaysia", "country": "MY", "keys": [KEY]}
FACILITY = {
    "id": "MY-GEBENG", "name": "Gebeng", "operator": "lynas-my", "country": "MY",
    "stage": "separation", "lat": 3.97, "lon": 103.38, "capacity_t_per_year": 10500,
}  # fmt: skip


def _registry(participant: dict[str, Any] | None = None, **facility: Any) -> dict[str, Any]:
    return {"participants": [participant or PARTICIPANT], "facilities": [{**FACILITY, **facility}]}


def test_the_registry_used_here_is_valid() -> None:
    parse_registry(_registry())


@pytest.mark.parametrize("bad", ["lynas\u202emy", "lynas-my\u200b", "\tlynas"])
def test_registry_ids_follow_the_rule(bad: str) -> None:
    cases = [
        _registry({**PARTICIPANT, "id": bad}),
        _registry(id=bad),
        _registry(operator=bad),
        _registry({**PARTICIPANT, "keys": [{**KEY, "kid": bad}]}),
    ]
    for doc in cases:
        with pytest.raises(ValidationError) as info:
            parse_registry(doc)
        assert info.value.rule == "bad-id", doc


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lat", 1e308), ("lat", 90.0001), ("lat", -91), ("lon", 180.5), ("lon", -181),
        ("capacity_t_per_year", -5), ("capacity_t_per_year", -1e-9),
        ("capacity_t_per_year", 2 * MAX_CAPACITY_T_PER_YEAR),
    ],
)  # fmt: skip
def test_facility_numbers_out_of_range_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValidationError) as info:
        parse_registry(_registry(**{field: value}))
    exc = info.value
    assert (exc.rule, exc.subject) == ("registry-range", "facility 'MY-GEBENG'")
    assert f"field {field!r} is {value!r}, outside" in exc.detail
    assert "leave the field out if it is not known" in exc.detail


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lat", 90), ("lat", -90), ("lon", 180), ("lon", -180), ("lon", 0),
        ("capacity_t_per_year", 0), ("capacity_t_per_year", MAX_CAPACITY_T_PER_YEAR),
    ],
)  # fmt: skip
def test_facility_numbers_at_their_limits_are_accepted(field: str, value: float) -> None:
    (_, [facility]) = parse_registry(_registry(**{field: value}))
    assert getattr(facility, field) == value


@pytest.mark.parametrize("value", [10**400, -(10**400), math.inf])
def test_facility_numbers_beyond_any_float_are_not_finite(value: float) -> None:
    with pytest.raises(ValidationError) as info:
        parse_registry(_registry(lat=value))
    assert info.value.rule == "registry-format"
