"""A screenshot of each page at 1280×800 and 375×667, each page rendered by Chromium with its
charts drawn. With ``RARETRACE_WEB_SCREENSHOTS=docs/screenshots`` they are written there (the
committed ones, shown in docs/dashboard.md); otherwise into the test's temporary folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from web_support import DESKTOP, PHONE, Site

pytestmark = pytest.mark.integration

#: (file stem, role, path, what to wait for)
PAGES = [
    ("overview", "public", "/ui/", "#facilities-map.js-plotly-plot"),
    ("registry", "public", "/ui/registry", "#reg-licences"),
    ("facility", "public", "/ui/facilities/MY-LYNAS-LAMP", "h1"),
    ("log", "public", "/ui/log", "[data-testid=checkpoint]"),
    ("verify", "public", "/ui/verify", "#verify-form"),
    ("signin", "public", "/ui/signin", "#signin-form"),
    ("lots", "council", "/ui/lots", "#lots-table"),
    ("lot", "council", "/ui/lots/{magnet}", "#lineage-graph.js-plotly-plot"),
    ("scenarios", "council", "/ui/scenarios", "#scenario-form"),
    ("licences", "public", "/ui/licences", "#licences-table"),
    ("agreements", "public", "/ui/agreements", "#agreements-table"),
    ("agreement", "council", "/ui/agreements/AGR-PERAK-SUPPLY-2025", "#review-history"),
    ("disputes", "public", "/ui/disputes", "#disputes-table"),
    ("dispute", "council", "/ui/disputes/D-SHORT-1", "[data-testid=ruling]"),
]


def test_screenshots_of_each_page_at_both_sizes(visit: Any, site: Site, tmp_path: Path) -> None:
    out = Path(os.environ.get("RARETRACE_WEB_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    for size in (DESKTOP, PHONE):
        v = visit(size)
        pages = {"public": v.page(), "council": v.sign_in("council")}
        for stem, role, path, ready in PAGES:
            page = pages[role]
            page.goto(site.url + path.replace("{magnet}", site.magnet))
            page.wait_for_selector(ready)
            if stem == "scenarios":
                page.check("input[value=china-dy-tb-ban]")
                page.click("#scenario-form button[type=submit]")
                page.wait_for_selector("#scenario-result .js-plotly-plot")
            page.wait_for_timeout(250)  # let the charts settle
            shot = out / f"{stem}-{size['width']}x{size['height']}.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 5_000, shot
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= size["width"] + 1, f"{path} is {wide} px wide at {size['width']} px"
        assert not any(p.script_errors for p in pages.values())
        v.assert_local()
