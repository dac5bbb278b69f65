"""The clearinghouse's rules on plain values (no database): licensing within jurisdiction,
the agreement review's state machine, disputes and their rulings, corrective events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from clearinghouse_support import (
    WORLD,
    agreement_review,
    agreement_submit,
    dispute_open,
    licence_act,
    licence_issue,
    ruling,
    statement,
)
from raretrace.domain.errors import ValidationError
from raretrace.domain.events import parse_event
from raretrace.domain.model import Lot, Tolerance
from raretrace.domain.registry import Registry, parse_registry_document
from raretrace.domain.rules import Effects, apply


@dataclass
class State:
    """A ledger of plain values: the rules' ``LedgerState`` plus taking effects."""

    registry: Registry = field(default_factory=Registry)
    lots: dict[str, Lot] = field(default_factory=dict)
    seq: int = 0

    def lot(self, lot_id: str) -> Lot | None:
        return self.lots.get(lot_id)

    def send(self, event: dict[str, Any]) -> Effects:
        effects = apply(self, parse_event(event), self.seq, Tolerance())
        if effects.record is not None:
            self.registry.add(effects.record, self.seq)
        if effects.case is not None:
            self.registry.add_case(effects.case)
        self.seq += 1
        return effects

    def refused(self, event: dict[str, Any], rule: str) -> ValidationError:
        before = (dict(self.registry.licences), dict(self.registry.agreements),
                  dict(self.registry.disputes))  # fmt: skip
        with pytest.raises(ValidationError) as caught:
            self.send(event)
        assert caught.value.rule == rule, caught.value.message
        after = (self.registry.licences, self.registry.agreements, self.registry.disputes)
        assert after == before
        return caught.value


@pytest.fixture
def state() -> State:
    doc = parse_registry_document(WORLD)
    reg = Registry()
    for record in doc.records():
        reg.add(record)
    return State(reg)


# -- licensing ---------------------------------------------------------------------------------


def test_a_state_authority_issues_suspends_reinstates_renews_and_revokes(state: State) -> None:
    state.send(licence_issue())
    state.send(licence_act("s", "suspend", time="2025-06-16T00:00:00Z", reason="tailings leak"))
    licence = state.registry.licences["LIC-KEN"]
    assert licence.suspended is not None
    assert not licence.valid_at("2025-07-01T00:00:00.000000Z")
    assert "suspended from 2025-06-16" in (licence.invalid_at("2025-07-01T00:00:00.000000Z") or "")
    state.send(licence_act("r", "reinstate", time="2025-09-01T00:00:00Z", reason="repaired"))
    licence = state.registry.licences["LIC-KEN"]
    assert licence.valid_at("2025-10-01T00:00:00.000000Z")
    assert not licence.valid_at("2025-08-31T23:00:00.000000Z")
    assert licence.to_json()["suspensions"] == [
        {"from": "2025-06-16T00:00:00Z", "reason": "tailings leak", "until": "2025-09-01T00:00:00Z",
         "by": "ptg-perak"}
    ]  # fmt: skip
    state.send(licence_act("n", "renew", time="2025-10-01T00:00:00Z",
                           valid_until="2029-01-01T00:00:00Z"))  # fmt: skip
    assert state.registry.licences["LIC-KEN"].valid_until == "2029-01-01T00:00:00.000000Z"
    state.send(licence_act("v", "revoke", time="2026-01-01T00:00:00Z", reason="abandoned"))
    assert not state.registry.licences["LIC-KEN"].valid_at("2026-02-01T00:00:00.000000Z")
    late = licence_act(
        "n2", "renew", time="2026-02-01T00:00:00Z", valid_until="2030-01-01T00:00:00Z"
    )
    error = state.refused(late, "licence-revoked")
    assert "issue a new licence" in error.message


def test_an_authority_of_another_state_is_refused(state: State) -> None:
    state.send(licence_issue())
    error = state.refused(
        licence_act("x", "renew", actor="ptg-pahang", valid_until="2029-01-01T00:00:00Z"),
        "licence-jurisdiction",
    )
    assert error.message == (
        "[licence-jurisdiction] licence 'LIC-KEN': 'ptg-pahang' is an authority of MY-06, but"
        " the licence is for facility 'MY-KENERING' in MY-08; only an authority whose"
        " jurisdiction covers it may renew it"
    )
    state.refused(licence_issue("y", actor="ptg-pahang", licence="LIC-2"), "licence-jurisdiction")


def test_a_national_authority_may_act_over_a_state_issuer_but_not_the_reverse(state: State) -> None:
    state.send(licence_issue())
    state.send(licence_act("s", "suspend", actor="aelb-my", reason="radiation survey due"))
    assert state.registry.licences["LIC-KEN"].suspended is not None
    state.send(licence_issue("l2", actor="aelb-my", licence="LIC-LAMP", facility="MY-LAMP",
                             holder="lynas-my"))  # fmt: skip
    state.refused(licence_act("p", "suspend", actor="ptg-pahang", licence="LIC-LAMP",
                              reason="x"), "licence-issuer")  # fmt: skip


@pytest.mark.parametrize(
    ("event", "rule"),
    [
        (licence_act("a", "suspend", actor="lynas-my", reason="x"), "licence-authority"),
        (licence_act("b", "renew", licence="NOPE", valid_until="2029-01-01T00:00:00Z"),
         "unknown-licence"),
        (licence_act("c", "reinstate"), "licence-not-suspended"),
        (licence_act("d", "renew", valid_until="2026-01-01T00:00:00Z"), "licence-renewal"),
        (licence_issue("e"), "licence-exists"),
        (licence_act("f", "pause"), "format"),
    ],
)  # fmt: skip
def test_bad_licensing_steps_are_refused(state: State, event: dict[str, Any], rule: str) -> None:
    state.send(licence_issue())
    state.refused(event, rule)


def test_a_licence_names_its_issuer(state: State) -> None:
    event = licence_issue()
    event["licence"]["authority"] = "aelb-my"
    state.refused(event, "licence-issuer")


# -- agreements --------------------------------------------------------------------------------


def test_an_agreement_moves_through_review_and_is_public_once_approved(state: State) -> None:
    state.send(agreement_submit())
    assert state.registry.agreements["AGR-1"].status == "submitted"
    assert state.registry.agreements["AGR-1"].public_json() == {"public_fields": []}
    state.send(agreement_review("r1", "under-review"))
    state.send(agreement_review("r2", "approved-with-conditions",
                                reasons="strategic: domestic supply first",
                                conditions=["10% of output offered to Malaysian buyers"],
                                public=["title", "volumes"]))  # fmt: skip
    agreement = state.registry.agreements["AGR-1"]
    assert agreement.status == "approved-with-conditions"
    public = agreement.public_json()
    assert set(public) == {"id", "kind", "parties", "jurisdictions", "status", "history",
                           "title", "volumes", "public_fields"}  # fmt: skip
    assert [h["status"] for h in public["history"]] == [
        "submitted",
        "under-review",
        "approved-with-conditions",
    ]
    assert public["history"][2]["conditions"] == ["10% of output offered to Malaysian buyers"]


def test_bad_reviews_are_refused(state: State) -> None:
    state.send(agreement_submit())
    error = state.refused(agreement_review("r0", "approved", reasons="x"), "agreement-transition")
    assert "from submitted a review moves it to under-review" in error.message
    state.refused(agreement_review("r1", "under-review", by="perak-sg"), "reviewer-is-party")
    state.refused({**agreement_review("r1", "under-review"), "actor": "lynas-my"}, "council-actor")
    state.send(agreement_review("r1", "under-review"))
    state.refused(agreement_review("r2", "approved"), "format")  # a decision gives reasons
    state.refused(agreement_review("r2", "approved", reasons="x", conditions=["c"]),
                  "agreement-conditions")  # fmt: skip
    state.send(agreement_review("r2", "rejected", reasons="no environmental assessment"))
    error = state.refused(agreement_review("r3", "approved", reasons="x"), "agreement-transition")
    assert "the decision is final" in error.message


def test_only_a_party_submits_and_ids_are_unique(state: State) -> None:
    state.refused(agreement_submit(actor="lynas-my"), "agreement-party")
    state.send(agreement_submit())
    state.refused(agreement_submit("agr-2"), "agreement-exists")
    bad = agreement_submit("agr-3", id="AGR-3", documents=[{"name": "a", "sha256": "abc"}])
    state.refused(bad, "document-digest")
    state.refused(agreement_submit("agr-4", id="AGR-4", kind="barter"), "format")


# -- disputes ----------------------------------------------------------------------------------


def test_a_dispute_is_ruled_and_its_corrective_event_recorded(state: State) -> None:
    state.send(dispute_open())
    state.send(statement("st-1"))
    state.send(ruling("rl-1", corrective={"party": "perak-ree", "action": "ship the shortfall"}))
    dispute = state.registry.disputes["D-1"]
    assert dispute.status == "ruled"
    assert dispute.outcome_json()["corrective_recorded"] is False
    state.refused(statement("st-2"), "dispute-closed")
    error = state.refused(ruling("rl-2"), "dispute-closed")
    assert "was ruled 'upheld'" in error.message
    state.send(licence_issue("lic", licence="LIC-KEN"))  # so perak-ree may extract
    extract = {"id": "x-1", "type": "extract", "time": "2025-03-05T00:00:00Z",
               "actor": "perak-ree", "facility": "MY-KENERING", "corrects": "D-1",
               "outputs": [{"lot": "MK-1", "form": "ore", "mass_kg": 60.0,
                            "elements_kg": {"Nd": 1.0}}]}  # fmt: skip
    state.refused({**extract, "actor": "lynas-my", "corrects": "D-1"}, "not-operator")
    effects = state.send(extract)
    assert effects.case is not None
    assert state.registry.disputes["D-1"].outcome_json()["corrective_recorded"] is True
    again = {**extract, "id": "x-2", "outputs": [{**extract["outputs"][0], "lot": "MK-2"}]}
    state.refused(again, "dispute-correction")


def test_dispute_parties_rulers_and_respondents(state: State) -> None:
    state.send(dispute_open())
    state.refused(statement("st", actor="perak-sg"), "not-dispute-party")
    state.refused(ruling("rl", by="lynas-my"), "ruler-is-party")
    state.refused(ruling("rl", corrective={"party": "perak-sg", "action": "x"}),
                  "corrective-party")  # fmt: skip
    state.refused(ruling("rl", outcome="quashed"), "format")
    state.refused(dispute_open("d2"), "dispute-exists")
    state.refused(dispute_open("d3", dispute="D-3", lot="NO-LOT"), "lot-not-found")
    state.refused(statement("st", dispute="D-9"), "unknown-dispute")
    state.send(ruling("rl", outcome="dismissed"))
    state.send(licence_issue("lic"))
    extract = {"id": "x-1", "type": "extract", "time": "2025-03-05T00:00:00Z",
               "actor": "perak-ree", "facility": "MY-KENERING", "corrects": "D-1",
               "outputs": [{"lot": "MK-1", "form": "ore", "mass_kg": 60.0,
                            "elements_kg": {"Nd": 1.0}}]}  # fmt: skip
    error = state.refused(extract, "dispute-correction")
    assert "no ruling in it requires a corrective event" in error.message
