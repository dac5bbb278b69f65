"""``raretrace analytics ...`` and ``raretrace open-data ...``: the council's analytics.

The sub-apps are defined here so that other command modules can register commands on
``analytics_app`` (scenario and corridor commands live in their own module).
"""

from __future__ import annotations

import typer

from raretrace.cli.main import PLAIN_HELP, app

__all__ = ["analytics_app", "open_data_app"]

analytics_app = typer.Typer(
    help="Flows, concentration, early warning, scenarios and the corridor plan.",
    no_args_is_help=True,
    **PLAIN_HELP,
)
open_data_app = typer.Typer(
    help="Public aggregates of the ledger (Parquet, CSV, datapackage.json).",
    no_args_is_help=True,
    **PLAIN_HELP,
)
app.add_typer(analytics_app, name="analytics")
app.add_typer(open_data_app, name="open-data")
