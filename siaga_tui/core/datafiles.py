"""The packaged data folder and its TOML files, parsed where they are read.

(A cache of the parsed files in the user's cache folder was removed: at 1 M reports
the console's CPU time to its first paint was 1.67 s with it and 1.65 s without,
medians of 7 interleaved starts, benchmark B1. Parsing is a few per cent of a start.)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

#: The catalogue and message files shipped with the package (wheel and checkout alike).
DATA_DIR: Final = Path(__file__).resolve().parent.parent / "data"

Document = dict[str, Any]


class TomlFileError(Exception):
    """A data file is not valid TOML; ``where`` names it, ``detail`` says what is wrong."""

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"{where}: not valid TOML: {detail}")
        self.where = where
        self.detail = detail


def read_toml_files(
    files: Sequence[Traversable], labels: Sequence[str] | None = None
) -> list[Document]:
    """The parsed documents of ``files``, in order; ``labels`` are how errors name the
    files (default: their paths)."""
    names = list(labels) if labels is not None else [str(f) for f in files]
    return [_parse(path, name) for path, name in zip(files, names, strict=True)]


def _parse(path: Traversable, where: str) -> Document:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TomlFileError(where, str(exc)) from None
