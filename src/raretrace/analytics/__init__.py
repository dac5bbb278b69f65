"""The council's analytics over the ledger: flows, concentration, early warning, open data,
scenarios and the corridor plan (docs/analytics.md).

The computations are pure functions of plain values (events as parsed JSON, the registry,
periods); ``reading.py`` is the one module that queries the store, read-only.
"""
