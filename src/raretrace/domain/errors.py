"""The one family of expected failures: every error a user can cause derives from RaretraceError."""

from __future__ import annotations


class RaretraceError(Exception):
    """Root of every expected failure; the CLI turns these into a one-line message."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(RaretraceError):
    """An event or record broke a ledger rule; nothing was changed.

    ``rule`` is the stable rule id documented in docs/formats.md, ``subject`` the lot,
    facility or event the rule is about.
    """

    exit_code = 1

    def __init__(self, rule: str, subject: str, message: str) -> None:
        super().__init__(f"[{rule}] {subject}: {message}")
        self.rule = rule
        self.subject = subject
        self.detail = message


class VerificationError(RaretraceError):
    """A signature, proof, checkpoint or recomputation that does not check."""

    exit_code = 1


class ConfigError(RaretraceError):
    """A setting, file or database that cannot be used as given."""


class NotFound(RaretraceError):
    """A lot, facility, event or file that does not exist."""
