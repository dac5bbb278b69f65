"""``did:web`` identifiers: their syntax, and where their DID document is published.

Follows the did:web method specification (W3C CCG, "Method-specific identifier" and "Read
(Resolve)") and DID Core 1.0 §3.1 (DID syntax): ``did:web:`` then a fully qualified domain
name (RFC 1035/1123 labels, no IP address), an optional port whose colon is percent-encoded
(``%3A``), then optional path segments separated by ``:`` made of DID ``idchar``s
(``ALPHA / DIGIT / "." / "-" / "_" / pct-encoded``). raretrace only reads DID documents
from files the verifier chose to trust; ``did_json_url`` says where the issuer must publish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from raretrace.domain.errors import ConfigError

_PREFIX = "did:web:"
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PORT = re.compile(r"%3[aA]([0-9]{1,5})")
_SEGMENT = re.compile(r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+")
_EXAMPLE = (
    "e.g. did:web:council.example, did:web:council.example%3A8443 or"
    " did:web:example.org:issuers:council"
)


@dataclass(frozen=True, slots=True)
class WebDid:
    """A checked ``did:web`` DID: host (lower case), optional port, path segments."""

    did: str
    host: str
    port: int | None
    path: tuple[str, ...]

    def did_json_url(self) -> str:
        """The HTTPS URL its DID document must be served at (did:web §"Read (Resolve)")."""
        authority = self.host if self.port is None else f"{self.host}:{self.port}"
        where = "/".join(self.path) if self.path else ".well-known"
        return f"https://{authority}/{where}/did.json"

    def base_url(self) -> str:
        """``https://host[:port][/path]``: the issuer's web origin and path, without did.json."""
        authority = self.host if self.port is None else f"{self.host}:{self.port}"
        return "/".join([f"https://{authority}", *self.path])


def parse_did_web(did: str) -> WebDid:
    """Check ``did`` against the did:web syntax; ConfigError naming the broken part."""
    if not did.startswith(_PREFIX):
        raise ConfigError(
            f"{did!r} is not a did:web DID: it must start with 'did:web:' ({_EXAMPLE})"
        )
    if any(c in did for c in "/?#"):
        raise ConfigError(
            f"{did!r}: a DID has no '/', '?' or '#' (those make a DID URL); "
            f"separate path segments with ':' ({_EXAMPLE})"
        )
    domain, *path = did[len(_PREFIX) :].split(":")
    host, port = _host_and_port(did, domain)
    for segment in path:
        if not _SEGMENT.fullmatch(segment) or segment in {".", ".."}:
            raise ConfigError(
                f"{did!r}: path segment {segment!r} is not allowed; a segment is one or more of"
                " letters, digits, '.', '-', '_' or %XX escapes, and not '.' or '..'"
            )
    return WebDid(did=did, host=host, port=port, path=tuple(path))


def _host_and_port(did: str, domain: str) -> tuple[str, int | None]:
    host, port = domain, None
    if "%" in domain:
        host, _, rest = domain.partition("%")
        match = _PORT.fullmatch("%" + rest)
        if not match or not 0 < int(match.group(1)) < 65536:
            raise ConfigError(
                f"{did!r}: the only escape allowed in the domain is a port, written "
                f"%3A<1-65535> (e.g. council.example%3A8443), got {domain!r}"
            )
        port = int(match.group(1))
    labels = host.split(".")
    if host != host.lower():
        raise ConfigError(
            f"{did!r}: write the domain in lower case ({host.lower()!r}); DIDs are"
            " compared as exact strings"
        )
    if len(labels) < 2 or len(host) > 253 or not all(_LABEL.fullmatch(x) for x in labels):
        raise ConfigError(
            f"{did!r}: {host!r} is not a fully qualified domain name (labels of letters, digits"
            f" and inner hyphens, at least two of them, 253 characters at most) ({_EXAMPLE})"
        )
    if labels[-1].isdigit():
        raise ConfigError(
            f"{did!r}: did:web must not use an IP address ({host!r}); use the"
            " domain name its TLS certificate is issued for"
        )
    return host, port
