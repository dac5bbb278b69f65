"""What people do on the dashboard, in Chromium against the real service: the council
certifies a magnet and a buyer (no account) verifies its passport, then a tampered copy; the
council runs a scenario and the corridor plan; an authority issues a licence and the
overview's licence status changes; the pages work by keyboard and on a phone, show times in
the viewer's zone, sort and page their tables; sign-out ends the session. No request leaves
127.0.0.1."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from web_support import PHONE, Site

pytestmark = pytest.mark.integration


def _tampered(jwt: str) -> str:
    """The JWT with one claim changed in its payload (the signature no longer matches)."""
    head, payload, sig = jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["tampered"] = True
    raw = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{raw}.{sig}"


def test_council_certifies_and_a_buyer_verifies_a_valid_and_a_tampered_passport(
    visit: Any, site: Site
) -> None:
    council = visit()
    page = council.sign_in("council")
    page.goto(f"{site.url}/ui/lots/{site.magnet}")
    page.click("text=Issue the passport and conformity credentials")
    page.wait_for_selector("[data-testid=certified]", timeout=120_000)
    dpp = page.locator("#certificates a", has_text="dpp.jwt").first.get_attribute("href")
    evidence = page.locator("#certificates a", has_text="evidence.json").first
    jwt = page.request.get(site.url + dpp).text().strip()
    bundle = page.request.get(site.url + evidence.get_attribute("href")).body()
    qr = page.request.get(f"{site.url}{dpp}/qr")
    assert qr.ok and qr.text().startswith("<svg") and "council.example/credentials" in qr.text()
    council.assert_local()

    buyer = visit()
    page = buyer.page()
    page.goto(f"{site.url}/ui/verify")
    page.fill("#credential", jwt)
    status_list = (site.ledger.folder / "status.jwt").read_bytes()
    page.set_input_files("#status_file", files=[
        {"name": "status.jwt", "mimeType": "application/jwt", "buffer": status_list}])  # fmt: skip
    page.set_input_files("#bundle_file", files=[
        {"name": "evidence.json", "mimeType": "application/json", "buffer": bundle}])  # fmt: skip
    page.click("#verify-form button[type=submit]")
    verdict = page.locator("[data-testid=verdict]")
    assert verdict.inner_text() == "Valid: every check passed", page.inner_text("main")[:2000]
    checks = page.inner_text("ol.checks")
    for name in ("securing", "status", "evidence"):
        assert f"passed — {name}" in checks, checks
    assert site.magnet in page.inner_text("details pre")

    page.goto(f"{site.url}/ui/verify")
    page.fill("#credential", _tampered(jwt))
    page.click("#verify-form button[type=submit]")
    assert page.locator("[data-testid=verdict]").inner_text() == "NOT valid"
    assert "FAILED — securing" in page.inner_text("ol.checks")
    page.goto(f"{site.url}/ui/verify")
    page.click("#verify-form button[type=submit]")  # nothing given: the error by the field
    assert "paste the credential" in page.inner_text("#credential-error")
    assert not page.script_errors
    buyer.assert_local()


def test_the_council_runs_a_scenario_and_the_corridor_plan(visit: Any, site: Site) -> None:
    v = visit()
    page = v.sign_in("council")
    page.click("nav.main a[href='/ui/scenarios']")
    page.check("input[value=lynas-outage]")
    page.check("input[value=china-dy-tb-ban]")
    page.click("#scenario-form button[type=submit]")
    unmet = page.wait_for_selector("[data-testid=unmet]", timeout=60_000).inner_text()
    assert unmet.endswith(" t") and float(unmet[:-2].replace(",", "")) > 0, unmet
    assert page.locator("#unmet-table tbody tr").count() > 0
    assert page.locator("#scenario-result .js-plotly-plot").count() == 2
    page.click("text=Plan the corridor")
    page.wait_for_selector("#resilience-table", timeout=60_000)
    assert page.locator("#resilience-table tbody tr").count() > 0
    page.select_option("#outage", "MY-LYNAS-LAMP")
    page.fill("#outage_until", "2001-01-01")  # before it starts: said in words
    page.uncheck("input[value=lynas-outage]")
    page.uncheck("input[value=china-dy-tb-ban]")
    page.click("#scenario-form button[type=submit]")
    assert "must end after it starts" in page.wait_for_selector("#htmx-error p").inner_text()
    assert not page.script_errors
    v.assert_local()


def _licence_status(page: Any, site: Site, facility: str) -> str:
    page.goto(f"{site.url}/ui/")
    return str(page.inner_text(f"[data-testid=licence-{facility}]"))


def _unlicensed_in_malaysia(page: Any, site: Site) -> str:
    """A facility in MY (the authority aelb-my's country) without a licence in force."""
    page.goto(f"{site.url}/ui/")
    rows = page.locator("#facilities-table tbody tr").all()
    for row in rows:
        cells = row.locator("td").all_inner_texts()
        if cells[2] == "MY" and cells[4] in ("expired", "none"):
            return str(row.get_attribute("data-facility"))
    raise AssertionError("the demo has no unlicensed facility in MY to license")


def test_an_authority_issues_a_licence_and_the_overview_shows_it(visit: Any, site: Site) -> None:
    public = visit().page()
    facility = _unlicensed_in_malaysia(public, site)
    v = visit()
    page = v.sign_in("authority")
    page.click("nav.main a[href='/ui/registry']")
    today = datetime.now(UTC).date()
    page.select_option("#facility", facility)
    page.fill("#valid_from", (today + timedelta(days=10)).isoformat())
    page.fill("#valid_until", today.isoformat())
    page.click("#licence-form button[type=submit]")
    assert "must be after" in page.inner_text("#valid_until-error")  # said next to the field
    page.fill("#valid_from", (today - timedelta(days=1)).isoformat())
    page.fill("#valid_until", (today + timedelta(days=365)).isoformat())
    page.click("#licence-form button[type=submit]")
    assert "recorded" in page.inner_text("[data-testid=done]")
    assert page.locator(f"[data-licence^='LIC-{facility}-']").count() == 1
    assert _licence_status(public, site, facility) == "licensed"
    assert "aelb-my" in page.inner_text("#reg-licences")
    site.ledger.audit_clean()
    v.assert_local()


def test_keyboard_phone_times_tables_and_sign_out(visit: Any, site: Site) -> None:
    phone = visit(PHONE)
    page = phone.page()
    page.goto(f"{site.url}/ui/registry")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"] + 1, f"the page is {wide} px wide on a 375 px screen"
    pager = page.locator(".pager[data-for=reg-facilities] span")
    assert pager.inner_text().startswith("page 1 of ")
    page.click(".pager[data-for=reg-facilities] button[data-step='1']")
    assert pager.inner_text().startswith("page 2 of ")
    header = page.locator("#reg-facilities th").nth(3)
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    first = page.locator("#reg-facilities tbody tr:not([hidden]) td").nth(3).inner_text()
    assert first == min(page.locator("#reg-facilities tbody tr td:nth-child(4)").all_inner_texts())
    stamp = page.locator("#reg-licences time").first
    assert stamp.get_attribute("title").endswith("(UTC); shown in Asia/Kuala_Lumpur")
    assert stamp.inner_text() != stamp.get_attribute("datetime")

    v = visit()
    page = v.sign_in("operator")
    cookie = next(c for c in v.context.cookies() if c["name"] == "rt_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    for _ in range(4):  # the skip link, the brand, Overview, Lots
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Lots"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/ui/lots")
    page.click("text=Sign out")
    assert page.inner_text("[data-testid=who]") == "Public view"
    assert page.request.get(f"{site.url}/ui/lots").status == 403
    phone.assert_local()
    v.assert_local()
