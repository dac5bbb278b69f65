"""The HTTP edge: a FastAPI application over ``raretrace.service`` (docs/service.md)."""
