"""raretrace: an element-conserving chain of custody for rare earths, from mine to magnet."""

from raretrace.domain.errors import (
    ConfigError,
    NotFound,
    RaretraceError,
    ValidationError,
    VerificationError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "NotFound",
    "RaretraceError",
    "ValidationError",
    "VerificationError",
    "__version__",
]
