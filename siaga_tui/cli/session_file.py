"""Where ``siaga112 login`` keeps its session token: one small file per database.

The file is in the user's runtime folder (``$XDG_RUNTIME_DIR/siaga112``, a tmpfs
emptied when the user's last session on the machine ends) or, where there is none, in
the user state folder (``~/.local/state/siaga112/sessions``). The folder is created
0700 and the file 0600, written under a temporary name and renamed; a file that is not
a regular file of this user, or that others may read, is refused rather than used
(someone may have read the token: sign in again). Its name is derived from the
database's location, so a session for one database is never presented to another.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from siaga_tui.core.errors import PermissionDenied

APP: Final = "siaga112"


def session_folder() -> Path:
    """The runtime folder when the system gives the user one, else the state folder."""
    import platformdirs

    runtime_base = os.environ.get("XDG_RUNTIME_DIR") or (
        f"/run/user/{os.getuid()}" if hasattr(os, "getuid") else ""
    )
    if runtime_base and _own_private_folder(Path(runtime_base)):
        return Path(runtime_base) / APP
    return Path(platformdirs.user_state_dir(APP, appauthor=False)) / "sessions"


def session_path(database: str) -> Path:
    """The session file for the database described as ``database``."""
    digest = hashlib.sha256(database.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return session_folder() / f"session-{digest}.json"


def save(database: str, *, token: str, username: str, expires_at: datetime | None) -> Path:
    """Write the session file for ``database`` (0600, replacing an older one)."""
    path = session_path(database)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    data = {
        "database": database,
        "username": username,
        "expires_at": expires_at.isoformat() if expires_at else None,
        "token": token,
    }
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def load(database: str) -> str | None:
    """The token kept for ``database``, None when there is no session file."""
    path = session_path(database)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError:
        raise PermissionDenied("ident_session_file_unsafe", path=str(path)) from None
    with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077 or not _owned(info):
            raise PermissionDenied("ident_session_file_unsafe", path=str(path))
        try:
            data: Any = json.load(handle)
        except ValueError:
            data = None
    token = (
        data.get("token") if isinstance(data, dict) and data.get("database") == database else None
    )
    if not isinstance(token, str) or not token:
        raise PermissionDenied("ident_session_file_unsafe", path=str(path))
    return token


def remove(database: str) -> bool:
    """Delete the session file for ``database``; whether there was one."""
    try:
        session_path(database).unlink()
    except FileNotFoundError:
        return False
    return True


def _own_private_folder(folder: Path) -> bool:
    try:
        info = folder.stat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and _owned(info) and os.access(folder, os.W_OK)


def _owned(info: os.stat_result) -> bool:
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()
