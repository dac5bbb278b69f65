"""Interchange: GS1 EPCIS 2.0 in and out, UNTP Digital Traceability Events, the RMI AMRT
workbook, registry spreadsheets and GeoJSON (docs/interchange.md).

The format modules are pure (plain values in, documents out); ``ledgerread`` is the one seam
that reads a stored ledger, and ``service`` holds what the CLI calls. Writes to the ledger go
through the registry load path (``raretrace.ledger.service``), never to tables.
"""
