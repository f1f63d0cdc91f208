"""Reading the files people import: CSV as spreadsheets write it, and xlsx workbooks.

``open_source(path, encoding)`` looks at the file's first bytes and gives its header
and an iterator over its rows, one at a time (memory stays flat whatever the size):

- **xlsx** (a ZIP with ``xl/workbook.xml``): read with openpyxl in read-only mode; each
  cell becomes text the way the CSV would hold it (dates as ``YYYY-MM-DD HH:MM:SS``,
  whole numbers without ``.0``).
- **CSV**: UTF-8 with or without BOM, UTF-16 with a BOM, or the encoding named
  (``cp1252`` for Excel's "CSV" on Windows). It is decoded line by line, so a bad byte
  is reported with its line. The delimiter (``,``, ``;`` or tab) is the one that splits
  the header into the most known column names. Quotes are read strictly: an unclosed
  quote is reported as such, with the line where its cell starts.
- Anything else is named for what it looks like (an old ``.xls`` workbook, an SQLite
  database, a ZIP archive, a PDF, binary data), never guessed as some encoding.

Problems of one row (a quote out of place, a line too long) are yielded as
``RowProblem`` in the row stream, so the importer lists them beside its own.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any, Final

from siaga_tui.core.errors import SiagaError

#: The longest physical line read (in bytes); a longer one is reported, not held. Big
#: enough that a huge pasted cell reaches its field's own rule (and is named by it).
MAX_LINE_BYTES: Final = 16 << 20
#: The largest cell the CSV reader accepts (characters).
MAX_CELL: Final = 16 << 20
DELIMITERS: Final = (",", ";", "\t")
_SNIFF_BYTES: Final = 8192


class ImportRefused(SiagaError):
    """The file as a whole cannot be read: encoding, header, layout, not a table.

    ``what`` (for ``import_not_text``) is itself a message key, and ``reason`` may be
    another error (``import_in_file``: which of several files): both are said in the
    language the message is read in.
    """

    def message(self, lang: str | None = None) -> str:
        from siaga_tui.core.i18n import translate

        params = dict(self.params)
        if "what" in params:
            params["what"] = translate(params["what"], lang)
        if isinstance(params.get("reason"), SiagaError):
            params["reason"] = params["reason"].message(lang)
        return translate(self.key, lang, **params)


@dataclass(frozen=True)
class RowProblem:
    """A row the reader itself could not split into cells: its line and message key."""

    line: int
    key: str


Row = tuple[int, list[str]]  # (line where the row starts, its cells)


@dataclass
class Source:
    """An opened file: its header cells and its rows (or problems), streamed once."""

    kind: str  # "csv" or "xlsx"
    header: list[str]
    rows: Iterator[Row | RowProblem]
    _close: Callable[[], None] = field(default=lambda: None, repr=False)

    def close(self) -> None:
        self._close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(path: Path, encoding: str | None, known: Callable[[str], bool]) -> Source:
    """The header and rows of ``path``; ``known(name)`` says whether a header cell is a
    column the importer knows (to choose the CSV delimiter)."""
    with path.open("rb") as probe:
        head = probe.read(_SNIFF_BYTES)
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, _zip_kind(path))
    if not encoding:
        not_text = what_it_looks_like(head)
        if not_text:
            raise ImportRefused("import_not_text", what=not_text)
    return _open_csv(path, head, encoding, known)


# --- What a file is -------------------------------------------------------------------


def what_it_looks_like(head: bytes) -> str | None:
    """For a file that is not text: the message key of what it seems to be (None: text)."""
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "import_kind_xls"
    if head.startswith(b"SQLite format 3\x00"):
        return "import_kind_sqlite"
    if head.startswith(b"%PDF"):
        return "import_kind_pdf"
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    if b"\x00" in head:
        if _utf16_without_bom(head):
            raise ImportRefused("import_utf16_without_bom")
        return "import_kind_binary"
    # Text may hold a stray control character (callers' text does: ESC, BEL); a tenth
    # of them is no text anybody typed.
    controls = sum(1 for byte in head if byte < 0x20 and byte not in (0x09, 0x0A, 0x0D, 0x1B))
    if len(head) >= 64 and controls > len(head) // 10:
        return "import_kind_binary"
    return None


def _utf16_without_bom(head: bytes) -> bool:
    """Text in UTF-16 without its mark: every other byte NUL (Latin text)."""
    sample = head[: len(head) // 2 * 2]
    if len(sample) < 4:
        return False
    even, odd = sample[0::2], sample[1::2]
    return even.count(0) > 0.9 * len(even) or odd.count(0) > 0.9 * len(odd)


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        names = set()
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "content.xml" in names:
        raise ImportRefused("import_not_text", what="import_kind_ods")
    raise ImportRefused("import_not_text", what="import_kind_zip")


# --- CSV ------------------------------------------------------------------------------


def _open_csv(
    path: Path, head: bytes, encoding: str | None, known: Callable[[str], bool]
) -> Source:
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise ImportRefused(
                "import_bad_encoding_named", encoding=encoding, reason=str(exc)
            ) from exc
        chosen = encoding
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        chosen = "utf-16"
    else:
        chosen = "utf-8-sig"
    raw = path.open("rb")
    try:
        lines = _text_lines(raw, chosen, named=bool(encoding))
        problems: list[RowProblem] = []
        first = next(lines, None)
        if first is None or not first.strip():
            raise ImportRefused("import_empty_file")
        delimiter = _delimiter(first, known)
        csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL))
        reader = csv.reader(
            _checked_lines(first, lines, problems), delimiter=delimiter, strict=True
        )
        header = next(reader)
    except BaseException:
        raw.close()
        raise
    return Source("csv", header, _csv_rows(reader, problems), raw.close)


def _text_lines(raw: IO[bytes], encoding: str, *, named: bool) -> Iterator[str]:
    """Decoded physical lines (line ends kept), each at most ``MAX_LINE_BYTES``.

    Byte-oriented encodings are decoded one line at a time, so a bad byte is reported
    with its own line; UTF-16 (which has a BOM) goes through an incremental decoder.
    A line longer than the limit is skipped to its end and given as ``_TOO_LONG``.
    """
    if encoding.lower().replace("_", "-").startswith("utf-16"):
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        number = 0
        try:
            while line := text.readline(MAX_LINE_BYTES):
                number += line.count("\n")
                yield line
        except UnicodeDecodeError as exc:
            raise ImportRefused("import_not_utf8", line=number + 1, encoding="UTF-16") from exc
        return
    decoder = codecs.getincrementaldecoder(encoding)()
    number = 0
    while chunk := raw.readline(MAX_LINE_BYTES):
        number += 1
        if len(chunk) == MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            while (rest := raw.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
            yield _TOO_LONG
            continue
        try:
            yield decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise _decode_refusal(chunk, exc, number, encoding, named) from exc


#: Stands for a physical line too long to hold (its line number is kept by the reader).
_TOO_LONG: Final = "\x00too-long\n"


def _decode_refusal(
    chunk: bytes, exc: UnicodeDecodeError, line: int, encoding: str, named: bool
) -> ImportRefused:
    if named:
        return ImportRefused(
            "import_bad_encoding_named", encoding=encoding, reason=f"line {line}: {exc.reason}"
        )
    try:
        chunk.decode("cp1252")
    except UnicodeDecodeError:
        return ImportRefused("import_not_utf8", line=line, encoding="UTF-8")
    # It reads as Windows text: Excel's "CSV" on Windows (cp1252, not latin-1, which
    # would turn “ ” – into invisible control characters).
    return ImportRefused("import_looks_cp1252", line=line)


def _checked_lines(first: str, lines: Iterator[str], problems: list[RowProblem]) -> Iterator[str]:
    """The lines for the csv reader; a line too long becomes an empty line and a problem."""
    yield first
    number = 1
    for line in lines:
        number += 1
        if line is _TOO_LONG:
            problems.append(RowProblem(number, "import_line_too_long"))
            yield "\n"
        else:
            yield line


def _csv_rows(reader: Any, problems: list[RowProblem]) -> Iterator[Row | RowProblem]:
    while True:
        line = reader.line_num + 1  # where the record starts (a cell may hold line breaks)
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            text = str(exc)
            if "unexpected end of data" in text:
                key = "import_unclosed_quote"
            elif "field larger than field limit" in text:
                key = "import_cell_too_large"
            else:
                key = "import_bad_quote"
            yield RowProblem(line, key)
            continue
        while problems:
            yield problems.pop(0)
        yield line, record


def _delimiter(first_line: str, known: Callable[[str], bool]) -> str:
    """The delimiter that splits the header into the most known column names."""

    def score(delimiter: str) -> tuple[int, int]:
        try:
            cells = next(csv.reader([first_line], delimiter=delimiter), [])
        except csv.Error:
            return (0, 0)
        return (sum(known(cell) for cell in cells), len(cells))

    return max(DELIMITERS, key=score)


# --- xlsx -------------------------------------------------------------------------------


def _open_xlsx(path: Path, kind: str) -> Source:
    del kind  # checked by _zip_kind: a workbook
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ImportRefused("import_bad_workbook", reason=str(exc)[:200]) from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    first = next(rows, None)
    if first is None or not any(cell not in (None, "") for cell in first):
        book.close()
        raise ImportRefused("import_empty_file")

    width = len(trimmed(xlsx_text(v) for v in first))

    def stream() -> Iterator[Row | RowProblem]:
        for number, values in enumerate(rows, start=2):
            cells = [xlsx_text(value) for value in values]
            # A sheet leaves out the empty cells at a row's end: they are empty, not missing.
            yield number, cells + [""] * (width - len(cells))

    return Source("xlsx", [xlsx_text(v) for v in first], stream(), book.close)


def xlsx_text(value: object) -> str:
    """A workbook cell as the CSV would hold it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def trimmed(cells: Iterable[str]) -> list[str]:
    """The cells without empty ones at the end (spreadsheets leave them)."""
    out = list(cells)
    while out and not out[-1].strip():
        out.pop()
    return out
