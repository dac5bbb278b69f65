"""Checking a document against the GS1 EPCIS 2.0 JSON Schema, as shipped in the package.

The schema (``raretrace/schemas/epcis-json-schema.json``) and the JSON-LD context
(``epcis-context.json``) are GS1's own files from the last Apache-2.0 commit of
github.com/gs1/EPCIS (the eBallot draft of EPCIS 2.0), copied unchanged; source and licence in
``epcis-json-schema.LICENSE.md``. That draft is stricter or older than ratified EPCIS 2.0 in a
few places, so ``AMENDMENTS`` brings it to the ratified text at load time, each amendment
named with the clause it follows (docs/interchange.md lists them). Formats are checked too:
``date-time`` as RFC 3339 with a zone, ``uri`` as an RFC 3986 absolute URI (a scheme, then no
whitespace), which is what makes a non-CBV bare word such as ``bizStep: "transforming"`` fail.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema  # type: ignore[import-untyped]

from raretrace.domain.errors import ValidationError

SCHEMA_FILE = "epcis-json-schema.json"
CONTEXT_FILE = "epcis-context.json"
#: RFC 3339 §5.6 date-time (zone required), as EPCIS 2.0 §7.3.1 requires of eventTime.
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
#: RFC 3986 §4.3 absolute URI: a scheme, a colon, then no whitespace (CURIEs such as
#: ``cbv:BizStep-shipping`` and ``example:myField`` are URIs by this rule, as JSON-LD reads them).
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S*")


@dataclass(frozen=True, slots=True)
class Amendment:
    """One change from the draft schema to ratified EPCIS 2.0, and why."""

    name: str
    follows: str
    apply: Callable[[dict[str, Any], Mapping[str, Any]], None]


def _terms(node: object, prefix: str) -> list[str]:
    """The context's terms whose IRI starts with ``prefix`` (e.g. ``cbv:BizStep-``)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, str) and value.startswith(prefix):
                    found.add(key)
                else:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return sorted(found)


def _quantity_optional(d: dict[str, Any], _ctx: Mapping[str, Any]) -> None:
    d["quantityElement"]["required"] = ["epcClass"]
    d["quantityElement"]["additionalProperties"] = False


def _cbv_words(d: dict[str, Any], ctx: Mapping[str, Any]) -> None:
    d["bizStep"]["anyOf"][1]["enum"] = _terms(ctx, "cbv:BizStep-")
    d["disposition"]["anyOf"][1]["enum"] = _terms(ctx, "cbv:Disp-")
    for key in ("set", "unset"):
        d["persistentDisposition"]["properties"][key]["items"] = {
            "$ref": "#/definitions/disposition"
        }


def _measurement_types(d: dict[str, Any], ctx: Mapping[str, Any]) -> None:
    d["sensorReport"]["properties"]["type"] = {
        "anyOf": [
            {"$ref": "#/definitions/uri"},
            {"enum": _terms(ctx, "gs1:")},
            {"type": "string", "pattern": "^[A-Z][A-Za-z]+$"},
        ]
    }


def _certification_info(d: dict[str, Any], _ctx: Mapping[str, Any]) -> None:
    uri = {"$ref": "#/definitions/uri"}
    d["Event"]["properties"]["certificationInfo"] = {
        "anyOf": [uri, {"type": "array", "items": uri}]
    }
    d["common-event-properties"]["anyOf"][0]["enum"].append("certificationInfo")


AMENDMENTS: tuple[Amendment, ...] = (
    Amendment(
        "quantity-optional",
        "EPCIS 2.0 §7.3.3.3 QuantityElement: quantity is optional; its fields are epcClass,"
        " quantity, uom only (ratified JSON Schema)",
        _quantity_optional,
    ),
    Amendment(
        "cbv-2.0-words",
        "CBV 2.0 §7.1 and §7.2: the bare bizStep and disposition words are the ones the EPCIS"
        " 2.0 JSON-LD context defines (the draft schema's lists lack sampling,"
        " sensor_reporting, needs_replacement, completeness_inferred, ...); persistentDisposition"
        " set/unset take the same words",
        _cbv_words,
    ),
    Amendment(
        "measurement-types",
        "EPCIS 2.0 §7.3.7 sensorReport type: a GS1 Web Vocabulary measurement type, written as"
        " its bare name (Temperature, EffectiveDoseRate) or a URI",
        _measurement_types,
    ),
    Amendment(
        "certification-info",
        "EPCIS 2.0 §7.3.6 certificationInfo: a URI or a list of URIs, on every event type",
        _certification_info,
    ),
)


def _package_json(name: str) -> Any:
    return json.loads((files("raretrace") / "schemas" / name).read_text(encoding="utf-8"))


def draft_schema() -> dict[str, Any]:
    """The GS1 draft schema exactly as shipped (tests validate exports against it too)."""
    schema: dict[str, Any] = _package_json(SCHEMA_FILE)
    return schema


def amended_schema(skip: Iterable[str] = ()) -> dict[str, Any]:
    """The draft schema with every amendment applied (except those named in ``skip``)."""
    schema = copy.deepcopy(draft_schema())
    context = _package_json(CONTEXT_FILE)["@context"]
    left_out = set(skip)
    for amendment in AMENDMENTS:
        if amendment.name not in left_out:
            amendment.apply(schema["definitions"], context)
    return schema


def format_checker() -> Any:
    """``date-time`` and ``uri`` checked as EPCIS 2.0 means them (see the module docstring)."""
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("date-time")  # type: ignore[untyped-decorator]
    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or _DATE_TIME.fullmatch(value) is not None

    @checker.checks("uri")  # type: ignore[untyped-decorator]
    def _uri(value: object) -> bool:
        return not isinstance(value, str) or _URI.fullmatch(value) is not None

    return checker


def validator(schema: Mapping[str, Any]) -> Any:
    """A Draft 7 validator (the schema's own ``$schema``) with EPCIS's formats."""
    return jsonschema.Draft7Validator(schema, format_checker=format_checker())


@cache
def _amended_validator() -> Any:
    return validator(amended_schema())


def schema_errors(document: object, check: Any = None) -> list[str]:
    """Every place ``document`` breaks the schema, as ``at PATH: MESSAGE``, most relevant
    first (an empty list when it conforms)."""
    errors = list((check or _amended_validator()).iter_errors(document))
    if not errors:
        return []
    # A plain error (a missing field, a wrong value) says more than "matches none of".
    plain = [e for e in errors if e.validator not in _COMBINATORS]
    best = jsonschema.exceptions.best_match(plain or errors)
    # A combinator error that wraps a plain one is the same problem, and so is a second
    # error at the same place (a field checked by two branches of the schema): counted once.
    ordered, places = [], set()
    for error in [best, *(e for e in (plain or errors) if e is not best)]:
        place = tuple(error.absolute_path)
        if place not in places:
            places.add(place)
            ordered.append(error)
    return [_describe(e) for e in ordered]


_COMBINATORS = ("anyOf", "oneOf", "allOf", "if", "not")


def _describe(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    message = str(error.message)
    if error.validator in _COMBINATORS and error.context:
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        inner = "/".join(str(p) for p in deepest.absolute_path)
        message = f"{_short(str(deepest.message))} (at {inner})" if inner else deepest.message
    field = str(error.absolute_path[-1]) if error.absolute_path else ""
    if field in ("bizStep", "disposition") and "is not a 'uri'" in message:
        message = (
            f"{error.instance!r} is neither a CBV 2.0 {field} word (e.g. shipping, receiving;"
            " in_transit, active) nor a URI"
        )
    return f"at {where}: {_short(message)}"


def _short(message: str) -> str:
    return message if len(message) <= 160 else message[:157] + "..."


def check_document(document: object, source: str) -> None:
    """Raise ValidationError (rule ``epcis-schema``) naming the first schema error and how
    many there are, unless ``document`` conforms to the (amended) EPCIS 2.0 JSON Schema."""
    errors = schema_errors(document)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ValidationError(
            "epcis-schema",
            source,
            f"not a valid EPCIS 2.0 document (GS1 EPCIS JSON Schema): {errors[0]}{more};"
            " correct the document (docs/interchange.md lists what raretrace checks)",
        )
