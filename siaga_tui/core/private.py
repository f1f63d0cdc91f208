"""Files that hold personal data or secrets: created for the owner only, or a named group.

The database and its ``-wal``/``-shm``, the default data folder, ``errors.log``, the
audit key and session files hold caller numbers or secrets (UU 27/2022). They are
created readable by their owner only (files 0600, folders 0700). A center where several
login accounts share one database names their common group in ``SIAGA112_GROUP``: the
files are then created for that group too (0660 / 0770, group set to it).
"""

from __future__ import annotations

import contextlib
import grp
import os
from pathlib import Path
from typing import Final

ENV_GROUP: Final = "SIAGA112_GROUP"


def shared_group() -> int | None:
    """The group id ``SIAGA112_GROUP`` names, or None (owner only)."""
    name = os.environ.get(ENV_GROUP, "").strip()
    if not name:
        return None
    try:
        return int(name) if name.isdigit() else grp.getgrnam(name).gr_gid
    except (KeyError, ValueError):
        from siaga_tui.core.errors import StorageError

        raise StorageError("private_group_unknown", group=name) from None


def file_mode() -> int:
    return 0o660 if shared_group() is not None else 0o600


def folder_mode() -> int:
    return 0o770 if shared_group() is not None else 0o700


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` (and missing parents) for the owner or group only.

    Only folders this call creates get the mode; an existing folder is left as the
    administrator set it.
    """
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    gid = shared_group()
    for path in reversed(missing):
        try:
            path.mkdir(mode=folder_mode())
        except FileExistsError:
            continue
        os.chmod(path, folder_mode())
        if gid is not None:
            os.chown(path, -1, gid)


def cannot_write(path: Path) -> bool:
    """Whether ``path`` is to be treated as read-only: this user cannot write it, or
    nobody may (mode 0444), which root's own write access does not overrule."""
    try:
        return not os.access(path, os.W_OK) or not os.stat(path).st_mode & 0o222
    except OSError:
        return True


def open_private(path: Path, flags: int) -> int:
    """``os.open`` creating the file with the private mode; returns the descriptor.
    A file that already existed keeps the mode it has."""
    existed = bool(flags & os.O_CREAT) and not (flags & os.O_EXCL) and os.path.exists(path)
    fd = os.open(path, flags, file_mode())
    if flags & os.O_CREAT and not existed:
        with contextlib.suppress(OSError):
            os.fchmod(fd, file_mode())  # the umask may have taken the group's bits
            gid = shared_group()
            if gid is not None:
                os.fchown(fd, -1, gid)
    return fd
