"""The audit key: the secret that signs the audit log, kept outside the database.

Every audit entry's hash is an HMAC-SHA256 under this key, so someone who has the
database file but not the key cannot append an entry, rewrite one or recompute the
chain after deleting rows: ``siaga112 audit verify`` finds it.

The key is 32 random bytes, written as hex on one line to ``audit.key`` in the user's
config folder (``~/.config/siaga112/audit.key`` on Linux) or to the file
``SIAGA112_AUDIT_KEY`` names (every workstation of a center names the same key, or a
copy of it). It is created at the first write, readable by its owner only (0600, or
0660 for ``SIAGA112_GROUP``). Back it up apart from the database: a backup of the
database that travels with its key proves nothing, and without the key the log cannot
be verified at all.

Beside the key, ``audit.key.signed`` lists the logs this key started signing (the hash
of the unsigned head it continued from), so a log cut back to its unsigned part is not
quietly signed a second time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from siaga_tui.core.errors import StorageError
from siaga_tui.core.private import make_private_folder, open_private

ENV_KEY: Final = "SIAGA112_AUDIT_KEY"
KEY_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class AuditKey:
    """The secret and its public id (which key signed an entry, without revealing it)."""

    secret: bytes
    id: str
    path: Path

    def mac(self, text: bytes) -> str:
        return hmac.new(self.secret, text, hashlib.sha256).hexdigest()


def key_path() -> Path:
    """Where the key is: ``SIAGA112_AUDIT_KEY``, or ``audit.key`` in the config folder."""
    named = os.environ.get(ENV_KEY, "").strip()
    where = (named, os.environ.get("XDG_CONFIG_HOME", ""), os.environ.get("HOME", ""))
    found = _paths.get(where)
    if found is None:
        if named:
            found = Path(named).expanduser()
        else:
            import platformdirs

            found = Path(platformdirs.user_config_dir("siaga112", appauthor=False)) / "audit.key"
        _paths[where] = found
    return found


#: ``key_path`` by the environment it was worked out from (it runs on every save).
_paths: dict[tuple[str, str, str], Path] = {}


def key_id(secret: bytes) -> str:
    return hashlib.sha256(b"siaga112 audit key id\x00" + secret).hexdigest()[:16]


_cache: dict[Path, tuple[int, int, AuditKey]] = {}


def load_key(*, create: bool) -> AuditKey | None:
    """The key; created on first use when ``create``; None when absent and not created."""
    path = key_path()
    try:
        info = path.stat()
    except FileNotFoundError:
        if not create:
            return None
        return _create(path)
    except OSError as exc:
        raise StorageError(
            "audit_key_unreadable", path=str(path), reason=exc.strerror or str(exc)
        ) from exc
    cached = _cache.get(path)
    if cached is not None and cached[:2] == (info.st_ino, info.st_mtime_ns):
        return cached[2]
    key = _read(path)
    _cache[path] = (info.st_ino, info.st_mtime_ns, key)
    return key


def _read(path: Path) -> AuditKey:
    try:
        text = path.read_text(encoding="ascii").strip()
        secret = bytes.fromhex(text)
    except OSError as exc:
        raise StorageError(
            "audit_key_unreadable", path=str(path), reason=exc.strerror or str(exc)
        ) from exc
    except ValueError:
        raise StorageError("audit_key_invalid", path=str(path)) from None
    if len(secret) < 16:
        raise StorageError("audit_key_invalid", path=str(path))
    return AuditKey(secret, key_id(secret), path)


def _create(path: Path) -> AuditKey:
    """Write a new key without ever replacing one another process wrote meanwhile."""
    try:
        make_private_folder(path.parent)
        temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = open_private(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        try:
            os.write(fd, (secrets.token_hex(KEY_BYTES) + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temp, path)  # fails if another process made the key first
        except FileExistsError:
            pass
        finally:
            os.unlink(temp)
    except OSError as exc:
        raise StorageError(
            "audit_key_unwritable", path=str(path), reason=exc.strerror or str(exc)
        ) from exc
    return _read(path)


def signed_logs_path(key: AuditKey) -> Path:
    return key.path.with_name(key.path.name + ".signed")


def already_signed(key: AuditKey, unsigned_head: str) -> bool:
    """Whether this key already started signing a log from this unsigned head."""
    try:
        lines = signed_logs_path(key).read_text(encoding="ascii").split()
    except OSError:
        return False
    return unsigned_head in lines


def remember_signed(key: AuditKey, unsigned_head: str) -> None:
    path = signed_logs_path(key)
    try:
        fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            os.write(fd, (unsigned_head + "\n").encode("ascii"))
        finally:
            os.close(fd)
    except OSError:
        pass  # a convenience: losing it only weakens a check on upgraded logs
