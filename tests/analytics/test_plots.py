"""``--plot``: one HTML file with everything inline (plotly.js and the map's topojson), so a
chart opens with no network."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analytics_support import small_ledger
from cli_support import run

pytestmark = pytest.mark.integration
#: A script or stylesheet loaded from elsewhere: <script src=...>, <link href=...>, or any
#: src= attribute.
REMOTE = re.compile(r"<script[^>]*\bsrc\s*=|<link[^>]*\bhref\s*=|\bsrc\s*=\s*[\"']?https?:", re.I)


@pytest.mark.parametrize("command", ["flows", "concentration"])
def test_charts_are_self_contained(tmp_path: Path, command: str) -> None:
    small_ledger(tmp_path).close()
    out = tmp_path / f"{command}.html"
    done = run("analytics", command, "--plot", str(out), cwd=tmp_path,
               env={"RARETRACE_DB": "ledger.db"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"chart written to {out}" in done.stdout
    page = out.read_text(encoding="utf-8")
    assert REMOTE.search(page) is None
    assert "Plotly.newPlot" in page and "plotly.js v" in page  # the library is inline
    if command == "flows":
        assert '"type":"sankey"' in page and '"type":"scattergeo"' in page
        assert "window.PlotlyGeoAssets={topojson:{world_110m:" in page
    else:
        assert '"type":"bar"' in page and "EU CRMA" in page


def test_a_chart_that_cannot_be_written_leaves_nothing(tmp_path: Path) -> None:
    small_ledger(tmp_path).close()
    done = run("analytics", "flows", "--plot", str(tmp_path / "nope" / "f.html"), cwd=tmp_path,
               env={"RARETRACE_DB": "ledger.db"})  # fmt: skip
    assert done.returncode == 2 and "folder" in done.stderr and "does not exist" in done.stderr
    assert not (tmp_path / "nope").exists() and done.stdout == ""
