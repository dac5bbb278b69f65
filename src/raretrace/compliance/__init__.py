"""Compliance rule packs: pure functions of (lot evidence, registry, as-of date) that answer
whether a lot meets a regulation, with the clause and the events each answer rests on
(docs/compliance.md)."""
