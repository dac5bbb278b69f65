"""The two ways raretrace writes a file: public (readable by all) or secret (owner only).

Everything a log publishes — the checkpoint, tiles, entry bundles, the verifier key, the log
directory's owner record — is public by design (C2SP tlog-tiles serves it as static files),
so it is written with mode 0644 (less whatever the umask takes away). Signing keys — the log
key, the registry authority's key, witness keys, participant keys — are written 0600 and never
overwritten. No other code in raretrace chooses a file mode.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from raretrace.domain.errors import ConfigError

__all__ = ["PUBLIC_MODE", "SECRET_MODE", "write_public", "write_secret"]

PUBLIC_MODE = 0o644
SECRET_MODE = 0o600


def write_public(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Replace ``path`` atomically with ``data``, mode 0644 less the umask.

    Written to a temporary file beside it, synced (unless ``fsync`` is false), then renamed
    over ``path``: a reader sees the old file or the new one, never a part. The caller syncs
    the directory when the rename itself must survive a power cut.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # os.open applies the umask to PUBLIC_MODE; tempfile.mkstemp would force 0600.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PUBLIC_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_secret(path: Path, text: str) -> None:
    """Create ``path`` readable only by its owner (0600) holding ``text``; never overwrite."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_MODE)
    except FileExistsError:
        raise ConfigError(f"{path} already exists; a key file is never overwritten") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
