"""Roles, licences, accreditations and audits in the registry (issue 9 §2): the issue's
example parses, every bad record is refused with its rule, and whether a record counts."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from raretrace.domain.errors import ValidationError
from raretrace.domain.licensing import (
    Accreditation,
    Audit,
    Licence,
    audit_standing,
    licence_standing,
)
from raretrace.domain.model import Participant
from raretrace.domain.registry import Registry, parse_participant, parse_registry_document
from registry_examples import ISSUE_DOC


def _doc(section: str, index: int = 0, **changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(ISSUE_DOC)
    record = doc[section][index]
    for key, value in changes.items():
        if value is ...:
            del record[key]
        else:
            record[key] = value
    return doc


def _rejected(doc: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_registry_document(doc)
    return info.value


def _registry(doc: dict[str, Any] | None = None) -> Registry:
    reg = Registry()
    for record in parse_registry_document(doc or ISSUE_DOC).records():
        reg.add(record)
    return reg


def test_the_issue_example_parses_with_its_exact_field_names() -> None:
    parsed = parse_registry_document(ISSUE_DOC)
    assert [p.roles for p in parsed.participants] == [
        ("authority",), ("auditor",), ("authority",), ("operator",), ("operator",),
    ]  # fmt: skip
    lic1, lic2 = parsed.licences
    assert lic1 == Licence(
        id="LIC-1", holder="lynas-my", kind="operating", authority="aelb-my",
        valid_from="2024-01-01T00:00:00.000000Z", valid_until="2026-03-02T00:00:00.000000Z",
        facility="MY-GEBENG",
    )  # fmt: skip
    assert (lic2.regime, lic2.events, lic2.facility) == ("CN-MOFCOM-18", ("s-dy1",), None)
    assert parsed.accreditations[0].standards == ("asean-esg-baseline", "oecd-ddg")
    assert parsed.audits[0].result == "pass"
    # The JSON form is the file's form, so loading the same file twice changes nothing.
    assert [x.to_json() for x in parsed.licences] == ISSUE_DOC["licences"]
    assert [x.to_json() for x in parsed.accreditations] == ISSUE_DOC["accreditations"]
    assert [x.to_json() for x in parsed.audits] == ISSUE_DOC["audits"]


def test_records_are_applied_in_dependency_order() -> None:
    kinds = [type(r).__name__ for r in parse_registry_document(ISSUE_DOC).records()]
    assert kinds == ["Participant"] * 5 + ["Facility", "Accreditation", "Licence", "Licence",
                                           "Audit"]  # fmt: skip


BAD = {
    "unknown role": (_doc("participants", roles=["regulator"]), "unknown-role"),
    "empty roles": (_doc("participants", roles=[]), "registry-format"),
    "roles twice": (_doc("participants", roles=["auditor", "auditor"]), "registry-format"),
    "roles not a list": (_doc("participants", roles="authority"), "registry-format"),
    "misspelt valid_until": (
        _doc("licences", valid_untill="2026-01-01T00:00:00Z"), "registry-format",
    ),
    "unknown kind": (_doc("licences", kind="mining"), "registry-format"),
    "export without regime": (_doc("licences", 1, regime=...), "registry-format"),
    "operating without facility": (_doc("licences", facility=...), "registry-format"),
    "operating with events": (_doc("licences", events=["s-1"]), "registry-format"),
    "unknown holder": (_doc("licences", holder="ghost"), "unknown-participant"),
    "unknown authority": (_doc("licences", 1, authority="ghost"), "unknown-participant"),
    "unknown facility": (_doc("licences", facility="XX-NOWHERE"), "unknown-facility"),
    "ends before it starts": (
        _doc("licences", valid_until="2024-01-01T00:00:00Z"), "registry-dates",
    ),
    "time without zone": (_doc("licences", valid_from="2024-01-01T00:00:00"), "registry-format"),
    "time as a number": (_doc("licences", valid_from=20240101), "registry-format"),
    "events not a list": (_doc("licences", 1, events="s-dy1"), "registry-format"),
    "event listed twice": (_doc("licences", 1, events=["s", "s"]), "registry-format"),
    "bad event id": (_doc("licences", 1, events=["s\u202e"]), "bad-id"),
    "no standards": (_doc("accreditations", standards=[]), "registry-format"),
    "unknown auditor": (_doc("accreditations", auditor="ghost"), "unknown-participant"),
    "accreditation backwards": (
        _doc("accreditations", valid_until="2023-01-01T00:00:00Z"), "registry-dates",
    ),
    "unknown result": (_doc("audits", result="ok"), "registry-format"),
    "audit without valid_until": (_doc("audits", valid_until=...), "registry-format"),
    "audit of an unknown facility": (_doc("audits", facility="XX-NOWHERE"), "unknown-facility"),
    "audit extra field": (_doc("audits", score=9), "registry-format"),
    "findings not a list": (_doc("audits", findings="none"), "registry-format"),
    "audit backwards": (_doc("audits", valid_until="2025-01-10T00:00:00Z"), "registry-dates"),
    "duplicate licence id": (
        {**ISSUE_DOC, "licences": [ISSUE_DOC["licences"][0]] * 2}, "registry-format",
    ),
    "licences not a list": ({**ISSUE_DOC, "licences": {}}, "registry-format"),
}  # fmt: skip


@pytest.mark.parametrize(("doc", "rule"), BAD.values(), ids=BAD.keys())
def test_bad_records_are_refused_naming_rule_and_record(doc: object, rule: str) -> None:
    error = _rejected(doc)
    assert error.rule == rule
    assert error.subject.split()[0] in {"participant", "licence", "accreditation", "audit",
                                        "registry"}, error.subject  # fmt: skip


def test_messages_say_what_to_do() -> None:
    error = _rejected(_doc("licences", valid_untill="2026-01-01T00:00:00Z"))
    assert str(error) == (
        "[registry-format] licence 'LIC-1': unknown field(s) ['valid_untill']; a licence has"
        " exactly the fields authority, events, facility, holder, id, kind, lots, regime,"
        " revoked, suspensions, valid_from, valid_until (docs/formats.md, Registry)"
    )
    error = _rejected(_doc("licences", valid_until="2024-01-01T00:00:00Z"))
    assert str(error) == (
        "[registry-dates] licence 'LIC-1': valid_until 2024-01-01T00:00:00Z is not after"
        " valid_from 2024-01-01T00:00:00Z; a record is valid from the first time up to (not"
        " including) the second"
    )
    error = _rejected(_doc("participants", roles=["regulator"]))
    assert str(error) == (
        "[unknown-role] participant 'aelb-my': role 'regulator' is not one of operator,"
        " auditor, authority; leave 'roles' out for an operator"
    )
    error = _rejected(_doc("licences", 1, authority="ghost"))
    assert str(error) == (
        "[unknown-participant] licence 'LIC-2': authority 'ghost' is not a registered"
        " participant; add it under 'participants'"
    )
    error = _rejected(_doc("audits", facility="XX-NOWHERE"))
    assert str(error) == (
        "[unknown-facility] audit 'AUD-1': facility 'XX-NOWHERE' is not in the registry;"
        " add it under 'facilities'"
    )


def test_records_may_name_what_the_ledger_already_holds() -> None:
    known = _registry()
    doc = {"licences": [{**ISSUE_DOC["licences"][0], "id": "LIC-3"}]}
    assert parse_registry_document(doc, known).licences[0].facility == "MY-GEBENG"
    with pytest.raises(ValidationError):
        parse_registry_document(doc)  # without the ledger's registry, MY-GEBENG is unknown


def test_roles_default_to_operator_and_keep_a_fixed_order() -> None:
    assert parse_participant({"id": "p", "name": "P", "country": "MY"}).roles == ("operator",)
    p = parse_participant(
        {"id": "p", "name": "P", "country": "MY", "roles": ["authority", "operator"]}
    )
    assert p.roles == ("operator", "authority")


def test_validity_is_half_open() -> None:
    lic = _registry().licences["LIC-1"]
    assert not lic.valid_at("2023-12-31T23:59:59.999999Z")
    assert lic.valid_at("2024-01-01T00:00:00.000000Z")
    assert lic.valid_at("2026-03-01T23:59:59.999999Z")
    assert not lic.valid_at("2026-03-02T00:00:00.000000Z")
    forever = Accreditation("A", "sgs-my", ("x",), "2024-01-01T00:00:00.000000Z", None)
    assert forever.valid_at("9999-12-31T00:00:00.000000Z")


def test_a_licence_counts_only_when_its_authority_has_the_role() -> None:
    reg = _registry()
    assert licence_standing(reg.licences["LIC-1"], reg) is None
    reg.add(Participant("aelb-my", "AELB", "MY"))  # role taken away: an operator now
    reason = licence_standing(reg.licences["LIC-1"], reg)
    assert reason == (
        "licence 'LIC-1' does not count: its authority 'aelb-my' does not hold the"
        " 'authority' role in the registry"
    )


def test_an_audit_counts_only_when_accredited_on_its_date() -> None:
    reg = _registry()
    audit = reg.audits["AUD-1"]
    assert audit_standing(audit, reg) is None

    def with_accreditation(valid_from: str, valid_until: str, standard: str) -> str | None:
        reg.add(Accreditation("ACC-1", "sgs-my", (standard,), valid_from, valid_until))
        return audit_standing(audit, reg)

    day = "2025-01-10T00:00:00.000000Z"
    assert with_accreditation(day, "2026-01-01T00:00:00.000000Z", "asean-esg-baseline") is None
    late = with_accreditation("2025-01-10T00:00:00.000001Z", "2026-01-01T00:00:00.000000Z",
                              "asean-esg-baseline")  # fmt: skip
    assert late == (
        "audit 'AUD-1' does not count: auditor 'sgs-my' held no accreditation for"
        " 'asean-esg-baseline' on 2025-01-10T00:00:00Z"
    )
    assert with_accreditation("2024-01-01T00:00:00.000000Z", day, "asean-esg-baseline")
    assert with_accreditation("2024-01-01T00:00:00.000000Z", "2027-01-01T00:00:00.000000Z",
                              "oecd-ddg")  # fmt: skip
    reg.add(Accreditation("ACC-1", "sgs-my", ("asean-esg-baseline",), day, None))
    reg.add(Participant("sgs-my", "SGS", "MY"))  # no auditor role
    assert "does not hold the 'auditor' role" in (audit_standing(audit, reg) or "")


def test_registry_copy_is_independent() -> None:
    reg = _registry()
    copied = reg.copy()
    copied.add(Audit("AUD-2", "MY-GEBENG", "sgs-my", "oecd-ddg", "2025-01-01T00:00:00.000000Z",
                     "2026-01-01T00:00:00.000000Z", "fail"))  # fmt: skip
    assert "AUD-2" in copied.audits and "AUD-2" not in reg.audits
    assert copied.record("licence", "LIC-2") is reg.licences["LIC-2"]
    assert copied.record("audit", "nope") is None
