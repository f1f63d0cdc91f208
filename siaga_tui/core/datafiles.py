"""The packaged data folder, and its TOML files parsed once and kept parsed between runs.

The messages and the catalogue are TOML that people maintain; parsing all of it with
the pure-Python ``tomllib`` costs the console about 35 ms at every start (benchmarks,
B1). So the parsed documents are kept in the user's cache folder with the size and
modification time of every file they came from, and read back with ``marshal`` in about
a millisecond. A file that changed, a cache that is missing, unreadable, corrupt or
written by another Python: the files are parsed again. Nothing depends on the cache
being writable; it only saves time.

The cache holds what ``tomllib`` returned, nothing derived: checking the documents stays
with their readers, so a cached file is checked exactly like a freshly parsed one.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

#: The catalogue and message files shipped with the package (wheel and checkout alike).
DATA_DIR: Final = Path(__file__).resolve().parent.parent / "data"
#: Changes when the layout of a cache file does; older files are then ignored.
FORMAT: Final = 1

Document = dict[str, Any]
#: (path, size, modification time in ns) of each source file.
Stamp = tuple[tuple[str, int, int], ...]


class TomlFileError(Exception):
    """A data file is not valid TOML; ``where`` names it, ``detail`` says what is wrong."""

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"{where}: not valid TOML: {detail}")
        self.where = where
        self.detail = detail


def read_toml_files(
    files: Sequence[Traversable], labels: Sequence[str] | None = None
) -> list[Document]:
    """The parsed documents of ``files``, in order, from the cache when it is current.

    ``labels`` are how errors name the files (default: their paths).
    """
    names = list(labels) if labels is not None else [str(f) for f in files]
    stamp = _stamp(files)
    cache = _cache_file(stamp) if stamp is not None else None
    if cache is not None and stamp is not None:
        documents = _read_cache(cache, stamp)
        if documents is not None:
            return documents
    documents = [_parse(path, name) for path, name in zip(files, names, strict=True)]
    if cache is not None and stamp is not None:
        _write_cache(cache, stamp, documents)
    return documents


def _parse(path: Traversable, where: str) -> Document:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TomlFileError(where, str(exc)) from None


def _stamp(files: Sequence[Traversable]) -> Stamp | None:
    """What identifies this version of the files; None when one cannot be stat'ed."""
    if not all(isinstance(f, Path) for f in files):
        return None  # inside a zip: no modification times to trust, just parse
    try:
        return tuple(
            (str(f.resolve()), s.st_size, s.st_mtime_ns)
            for f in files
            if isinstance(f, Path)
            for s in [f.stat()]
        )
    except OSError:
        return None


def _cache_file(stamp: Stamp) -> Path | None:
    folder = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(folder):
        return None
    # One cache file per set of paths: the messages and the catalogue do not evict each other.
    which = f"{zlib.crc32(repr([entry[0] for entry in stamp]).encode()):08x}"
    return Path(folder) / "siaga112" / f"parsed-{which}.marshal"


def _read_cache(cache: Path, stamp: Stamp) -> list[Document] | None:
    try:
        stored = marshal.loads(cache.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if (
        isinstance(stored, tuple)
        and len(stored) == 4
        and stored[:3] == (FORMAT, sys.version_info[:2], stamp)
        and isinstance(stored[3], list)
    ):
        return stored[3]
    return None


def _write_cache(cache: Path, stamp: Stamp, documents: list[Document]) -> None:
    try:
        payload = marshal.dumps((FORMAT, sys.version_info[:2], stamp, documents))
    except ValueError:  # a value marshal cannot hold (a TOML date): parse every time
        return
    partial = cache.with_name(f"{cache.name}.{os.getpid()}.part")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(payload)
        partial.replace(cache)  # readers see the old file or the new one, never half
    except OSError:
        with suppress(OSError):
            partial.unlink(missing_ok=True)
