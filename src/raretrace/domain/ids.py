"""What an id may be: the one rule for every id in the ledger.

Events, lots, participants, facilities and signing keys are named by ids their submitters
choose. Users read them in tables and copy them into commands, so an id must look like what
it is: 1 to ``MAX_ID_LENGTH`` characters, no whitespace at either end, and none of the
characters that are invisible or change how text around them is displayed — controls
(Unicode category Cc), format characters (Cf: the bidirectional overrides and isolates
U+202A–U+202E and U+2066–U+2069, the marks U+200E/U+200F/U+061C, zero-width characters, the
byte order mark), lone surrogates (Cs) and line or paragraph separators (Zl, Zp). An id with
U+202E in it prints reversed ("Unicode Technical Report #36, Unicode Security
Considerations, §2.4 Bidirectional Text Spoofing").

Spaces inside an id and letters of any script are allowed.
"""

from __future__ import annotations

import unicodedata

from raretrace.domain.errors import ValidationError

#: The longest id, in characters (Unicode code points).
MAX_ID_LENGTH = 200
#: Unicode general categories no id may contain (see the module docstring).
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: The rule id of a string that breaks the id rule (docs/formats.md, Units and conventions).
RULE = "bad-id"


def id_problem(value: str) -> str | None:
    """What is wrong with ``value`` as an id, in words, or None when it is a good id."""
    if not value:
        return "is empty"
    if len(value) > MAX_ID_LENGTH:
        return f"is {len(value)} characters long, more than {MAX_ID_LENGTH}"
    if value.isascii():  # the common case: only C0 controls and DEL can be wrong here
        bad = None if value.isprintable() else next(c for c in value if not c.isprintable())
    else:
        bad = next((c for c in value if unicodedata.category(c) in FORBIDDEN_CATEGORIES), None)
    if bad is not None:
        name = unicodedata.name(bad, unicodedata.category(bad))
        return (
            f"contains U+{ord(bad):04X} ({name}), an invisible or control character that"
            " changes how the id is displayed"
        )
    if value[0].isspace() or value[-1].isspace():
        return "starts or ends with whitespace"
    return None


def check_id(value: object, subject: str, field: str, *, rule: str = "format") -> str:
    """``value`` if it is a good id for ``field``, else a ValidationError saying why.

    A value that is not a string, or is empty or blank, is a missing field: it breaks
    ``rule``, the caller's shape rule (``format`` for events, ``registry-format`` for
    registry records). A string that breaks the id rule otherwise is refused under
    ``bad-id``.
    """
    if type(value) is not str or not value.strip():
        raise ValidationError(
            rule, subject, f"field {field!r} must be a non-empty string, got {value!r}"
        )
    problem = id_problem(value)
    if problem is not None:
        raise ValidationError(RULE, subject, f"{field} {value!r} {problem}; {ADVICE}")
    return value


#: What to do about a bad id, in every message.
ADVICE = (
    f"an id is 1-{MAX_ID_LENGTH} characters with no whitespace at either end and no control"
    " or invisible formatting characters (docs/formats.md, Ids)"
)
