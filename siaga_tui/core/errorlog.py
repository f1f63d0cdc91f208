"""``errors.log``: where an unexpected failure's traceback goes, for the supervisor.

The command line and the console both write here (the user's log folder, created for
the owner only), never the values of an SQL statement: they hold callers' numbers and
names.
"""

from __future__ import annotations

import os
import re
import traceback
from pathlib import Path
from typing import Final

from siaga_tui.core.private import make_private_folder, open_private

_PARAMETERS: Final = re.compile(r"\[parameters: .*?\](?=\s*(?:\n|\(Background|$))", re.DOTALL)


def log_unexpected(exc: BaseException) -> str:
    """Append the traceback to ``errors.log``; its path, or ``-`` when it cannot be written."""
    import platformdirs

    folder = Path(platformdirs.user_log_dir("siaga112", appauthor=False))
    try:
        make_private_folder(folder)
        path = folder / "errors.log"
        fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        with os.fdopen(fd, "a", encoding="utf-8", errors="replace") as handle:
            handle.write(without_parameters("".join(traceback.format_exception(exc))))
        return str(path)
    except OSError:
        return "-"


def without_parameters(text: str) -> str:
    """Text with SQLAlchemy's ``[parameters: …]`` parts replaced by a placeholder."""
    return _PARAMETERS.sub("[parameters hidden]", text)
