"""The clearinghouse on the dashboard, in Chromium against the real service: the council moves
an agreement through its review and the public sees it disclosed with its history; an
operator opens a dispute (the page prepares the event, the operator signs it with its own
key, the page submits it), the council rules, and the public sees the outcome; an authority
suspends a licence it issued and its standing changes. No request leaves 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from web_support import Site

pytestmark = pytest.mark.integration

DIGEST = "ab" * 32


def _sign_and_submit(page: Any, site: Site, kind: str) -> str:
    """Sign the event the page prepared with its actor's demo key, paste it, submit it."""
    prepared = page.wait_for_selector(f"[data-testid=prepared-{kind}] [data-testid=unsigned-event]")
    event = json.loads(prepared.inner_text())
    page.fill(f"#signed-{kind}", json.dumps(site.ledger.sign(event)))
    page.click(f"#submit-{kind}-form button[type=submit]")
    return str(page.wait_for_selector("[data-testid=case-done]").inner_text())


def test_the_council_reviews_an_agreement_and_the_public_sees_it(visit: Any, site: Site) -> None:
    public = visit().page()
    public.goto(f"{site.url}/ui/agreements")
    assert public.locator("[data-agreement=MOU-VN-SEPARATION-2025]").count() == 0  # in review
    assert public.locator("[data-agreement=AGR-LAMP-OFFTAKE-2025]").count() == 1  # disclosed

    v = visit()
    page = v.sign_in("council")
    page.click("nav.main a[href='/ui/agreements']")
    page.click("#review-queue a:text('MOU-VN-SEPARATION-2025')")
    page.select_option("#status", "approved-with-conditions")
    page.fill("#reasons", "keeps separation know-how in the region")
    page.fill("#conditions", "annual report to the council")
    page.check("input[name=public][value=title]")
    page.click("#review-form button[type=submit]")
    done = page.wait_for_selector("[data-testid=case-done]").inner_text()
    assert "approved-with-conditions" in done

    public.goto(f"{site.url}/ui/agreements")
    status = public.inner_text("[data-testid=agreement-status-MOU-VN-SEPARATION-2025]")
    assert status == "approved-with-conditions"
    public.click("a:text('MOU-VN-SEPARATION-2025')")
    history = public.inner_text("#review-history")
    assert "keeps separation know-how" in history and "annual report" in history
    assert "public fields" in public.inner_text("main")
    assert not page.script_errors and not public.script_errors
    v.assert_local()


def _event_of(site: Site, actor: str) -> tuple[str, str]:
    """A ship event ``actor`` made to another participant, and that consignee (read from
    the ledger file)."""
    with sqlite3.connect(f"file:{site.ledger.db}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT id, body FROM events WHERE actor = ? AND type = 'ship' ORDER BY seq", (actor,)
        ).fetchall()
    for event_id, body in rows:
        consignee = json.loads(body).get("consignee")
        if consignee and consignee != actor:
            return str(event_id), str(consignee)
    raise AssertionError(f"{actor} shipped nothing to another participant in the demo")


def test_an_operator_opens_a_dispute_the_council_rules(visit: Any, site: Site) -> None:
    event_id, consignee = _event_of(site, site.operator)
    v = visit()
    page = v.sign_in("operator")
    page.click("nav.main a[href='/ui/disputes']")
    page.fill("#d-id", "D-WEB-1")
    page.fill("#d-about", event_id)
    page.fill("#d-resp", consignee)
    page.fill("#d-summary", "the receipt was weighed on an uncalibrated scale")
    page.fill("#d-evidence", f"calibration.pdf {DIGEST}")
    page.click("#dispute-form button[type=submit]")
    assert "dispute event" in _sign_and_submit(page, site, "dispute")
    page.goto(f"{site.url}/ui/disputes/D-WEB-1")
    assert page.inner_text("[data-testid=dispute-status]") == "open"

    page.fill("#s-text", "the calibration certificate had lapsed")
    page.click("#statement-form button[type=submit]")
    assert "statement event" in _sign_and_submit(page, site, "statement")
    page.goto(f"{site.url}/ui/disputes/D-WEB-1")
    assert "calibration certificate had lapsed" in page.inner_text("#statements")

    council = visit()
    cpage = council.sign_in("council")
    cpage.goto(f"{site.url}/ui/disputes/D-WEB-1")
    cpage.select_option("#outcome", "dismissed")
    cpage.fill("#r-reasons", "the scale was within tolerance")
    cpage.click("#ruling-form button[type=submit]")
    assert "ruled dismissed" in cpage.wait_for_selector("[data-testid=case-done]").inner_text()
    cpage.click("#ruling-form button[type=submit]")  # the same again: a retry, nothing new
    assert "recorded already" in cpage.wait_for_selector("#ruling-done").inner_text()
    cpage.select_option("#outcome", "upheld")  # another ruling of the same dispute: refused
    cpage.click("#ruling-form button[type=submit]")
    assert "takes no second ruling" in cpage.wait_for_selector("#htmx-error p").inner_text()

    public = visit().page()
    public.goto(f"{site.url}/ui/disputes")
    assert public.inner_text("[data-testid=dispute-status-D-WEB-1]") == "ruled"
    public.goto(f"{site.url}/ui/disputes/D-WEB-1")
    assert "dismissed" in public.inner_text("[data-testid=ruling]")
    assert "uncalibrated" not in public.inner_text("main")  # the parties' words stay theirs
    assert not page.script_errors and not cpage.script_errors
    v.assert_local()
    council.assert_local()


def test_an_authority_suspends_a_licence_it_issued(visit: Any, site: Site) -> None:
    v = visit()
    page = v.sign_in("authority")
    page.click("nav.main a[href='/ui/licences']")
    assert page.inner_text("[data-testid=standing-LIC-HRE1-OP]") == "valid"
    page.select_option("#lic-action", "suspend")
    page.fill("#lic-id", "LIC-HRE1-OP")
    page.fill("#lic-reason", "radiation monitoring overdue")
    page.click("#licensing-form button[type=submit]")
    assert "licensing event" in _sign_and_submit(page, site, "licensing")
    page.goto(f"{site.url}/ui/licences/LIC-HRE1-OP")
    assert page.inner_text("[data-testid=standing]") == "suspended"
    assert "radiation monitoring overdue" in page.inner_text("#licence-history")
    page.goto(f"{site.url}/ui/licences")
    page.fill("#lic-id", "LIC-MTWELD-OP")  # Western Australia's: not this authority's
    page.select_option("#lic-action", "suspend")
    page.fill("#lic-reason", "x")
    page.click("#licensing-form button[type=submit]")
    prepared = page.wait_for_selector("[data-testid=unsigned-event]")
    page.fill("#signed-licensing", json.dumps(site.ledger.sign(json.loads(prepared.inner_text()))))
    page.click("#submit-licensing-form button[type=submit]")
    refusal = page.wait_for_selector("#htmx-error p").inner_text()
    assert "LIC-MTWELD-OP" in refusal or "jurisdiction" in refusal, refusal
    assert not page.script_errors
    v.assert_local()
    site.ledger.audit_clean()
