"""The web dashboard (docs/dashboard.md): server-rendered pages on the service under ``/ui``,
for the council, operators, auditors, authorities, witnesses and the public, every asset
served by the application itself."""

from raretrace.web.app import mount

__all__ = ["mount"]
