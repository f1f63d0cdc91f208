"""Exporting reports and figures for spreadsheets: CSV (plain or Excel-flavoured) and xlsx.

The database does the per-row work. One ``SELECT`` builds every output column:
timestamps as ISO 8601 in WITA with their offset, catalogue labels joined from a
small constant table, lifecycle intervals in seconds, the agencies joined, the
duplicate's original number, phone numbers masked, and every text cell that a
spreadsheet could read as a formula neutralised. Python only moves finished tuples from
the driver's cursor into ``csv.writer.writerows`` in batches, so memory stays flat
whatever the number of rows and the speed is close to the database's own CSV output.

Rules the columns keep (README, "Exports and imports"):

- A CSV text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return,
  also after leading spaces (LibreOffice's "Trim spaces" would otherwise make
  `` =1+1`` a formula), is prefixed with a single quote ``'`` (OWASP CSV-injection
  guidance), in both CSV modes. A cell that itself starts with ``'`` gets one too, so
  the import can remove exactly the quote the export added. In xlsx every text cell is
  written as text, which no spreadsheet evaluates: no quote is added there.
- Times are ISO 8601 in WITA with the offset in plain CSV; in ``--excel`` CSV they are
  ``DD/MM/YYYY HH:MM:SS`` (WITA), which Excel and LibreOffice in an Indonesian locale
  read as dates, so a supervisor can sort and group by month; in xlsx they are dates.
- ``counted`` is 1 for a row the statistics count and 0 for a duplicate (counted once,
  through its original); ``archived`` is 1 for history kept out of live operations.
- Caller phone numbers and names are personal data (UU 27/2022): by default the columns
  are ``caller_phone_masked`` (``0812-****-7890``) and ``caller_name_initial`` (``B.``).
  With personal data they are ``caller_phone`` in national format (``0812-3456-7890``:
  the dashes keep the leading 0 and stop scientific notation; a foreign ``+`` number is
  neutralised like any other cell) and ``caller_name``; such an export is recorded in
  the audit log before the first row is written.
- Files are written to a temporary name in the destination folder and renamed when
  complete, so a crash never leaves half a file under the final name.
"""

from __future__ import annotations

import csv
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siaga_tui.core.catalogue import Catalogue, load_catalogue
from siaga_tui.core.db import Database
from siaga_tui.core.errors import InvalidInput, SiagaError, ValidationError
from siaga_tui.core.models import (
    CALL,
    INTERVALS,
    REFERRAL,
    REPORT,
    Kind,
    Status,
    interval_column_name,
)
from siaga_tui.core.phones import format_phone
from siaga_tui.core.timeutil import Clock, display_zone, system_clock
from siaga_tui.services.audit import Action, record
from siaga_tui.services.stats import (
    ROW_FIELDS,
    Period,
    Statistics,
    figure_rows,
)

#: Rows fetched from the cursor per batch (and per progress step).
BATCH: Final = 5_000
#: A spreadsheet holds at most this many rows (header included).
XLSX_MAX_ROWS: Final = 1_048_576
#: First characters a spreadsheet may read as a formula or that change the cell, and
#: the quote itself (so the quote the export adds can be told apart on import).
DANGEROUS_LEADS: Final = ("=", "+", "-", "@", "\t", "\r", "'")
NEUTRALISER: Final = "'"

TIMESTAMP_COLUMNS: Final = (
    "created_at", "updated_at", "answered_at", "forwarded_at", "acknowledged_at", "closed_at",
)  # fmt: skip
INTERVAL_COLUMNS: Final = tuple(interval_column_name(name) for name in INTERVALS)
MASKED_CALLER_COLUMNS: Final = ("caller_phone_masked", "caller_name_initial")
PERSONAL_CALLER_COLUMNS: Final = ("caller_phone", "caller_name")
#: The report columns, in order (the last two depend on personal data, see above).
BASE_COLUMNS: Final = (
    "number",
    *TIMESTAMP_COLUMNS,
    "category", "category_label", "kind", "priority", "status",
    "kelurahan_code", "kelurahan", "kecamatan_code", "kecamatan",
    "address", "description", "agencies",
    *INTERVAL_COLUMNS,
    "operator", "duplicate_of", "counted", "archived",
)  # fmt: skip
#: The calls file (``export --calls``); the caller column follows personal data.
CALL_COLUMNS: Final = (
    "answered_at", "disposition", "operator", "report_number", "caller_phone_masked", "caller_phone",
)  # fmt: skip
#: The referrals file (``export --referrals``): every forward with its acknowledgement.
REFERRAL_COLUMNS: Final = (
    "report_number", "agency", "forwarded_at", "forwarded_by", "channel", "agency_ref",
    "acknowledged_at", "acknowledged_by",
)  # fmt: skip
#: Between agency codes in the ``agencies`` cell, in the order they were forwarded to.
AGENCY_SEPARATOR: Final = ", "


class ExportRefused(SiagaError):
    """An export that cannot be written as asked (too many rows for xlsx, …)."""


def columns(*, personal: bool) -> tuple[str, ...]:
    return BASE_COLUMNS + (PERSONAL_CALLER_COLUMNS if personal else MASKED_CALLER_COLUMNS)


@dataclass(frozen=True)
class ExportFilter:
    """Which reports: a period of ``created_at`` and optional value lists (OR within one)."""

    period: Period = field(default_factory=Period.all)
    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    #: Only the rows the statistics count (duplicates left out).
    counted_only: bool = False

    def checked(self, catalogue: Catalogue) -> ExportFilter:
        """The same filter with values normalised; InvalidInput naming every bad one."""
        errors: list[ValidationError] = []

        def pick(name: str, values: Iterable[str], allowed: Sequence[str]) -> tuple[str, ...]:
            out: list[str] = []
            for value in values:
                wanted = value.strip().lower()
                if wanted in allowed:
                    out.append(wanted)
                else:
                    errors.append(
                        ValidationError(
                            name, "choice_unknown", value=value, allowed=", ".join(allowed)
                        )
                    )
            return tuple(dict.fromkeys(out))

        result = ExportFilter(
            period=self.period,
            statuses=pick("status", self.statuses, [s.value for s in Status]),
            kinds=pick("kind", self.kinds, [k.value for k in Kind]),
            categories=pick("category", self.categories, [c.code for c in catalogue.categories]),
            agencies=pick("agency", self.agencies, [a.code for a in catalogue.agencies]),
            counted_only=self.counted_only,
        )
        if errors:
            raise InvalidInput(errors)
        return result

    def describe(self) -> dict[str, Any]:
        """For the audit log: what was exported."""
        return {
            "period": self.period.describe(),
            "statuses": list(self.statuses),
            "kinds": list(self.kinds),
            "categories": list(self.categories),
            "agencies": list(self.agencies),
            "counted_only": self.counted_only,
        }

    def where(self) -> list[sa.ColumnElement[bool]]:
        terms = self.period.condition(REPORT.c.created_at)
        if self.statuses:
            terms.append(REPORT.c.status.in_(self.statuses))
        if self.kinds:
            terms.append(REPORT.c.kind.in_(self.kinds))
        if self.categories:
            terms.append(REPORT.c.category.in_(self.categories))
        if self.agencies:
            terms.append(
                sa.exists().where(
                    REFERRAL.c.report_id == REPORT.c.id, REFERRAL.c.agency.in_(self.agencies)
                )
            )
        if self.counted_only:
            terms.append(REPORT.c.duplicate_of.is_(None))
        return terms


# --- SQL building blocks ----------------------------------------------------------------


#: Spaces a spreadsheet may trim before it reads a cell (space, no-break space).
TRIMMED_SPACES: Final = " \u00a0"


def neutralise(value: str) -> str:
    """The Python twin of ``_neutralised``: for cells made outside SQL."""
    return (
        NEUTRALISER + value if value.lstrip(TRIMMED_SPACES).startswith(DANGEROUS_LEADS) else value
    )


def _neutralised(expr: sa.ColumnElement[Any], *, neutral: bool = True) -> sa.ColumnElement[str]:
    """``expr`` as text, ``''`` for NULL, with a quote before a dangerous first character
    (also after leading spaces); ``neutral=False`` (xlsx, text cells) leaves it as is."""
    text = sa.func.coalesce(sa.cast(expr, sa.Text), "")
    if not neutral:
        return text
    first = sa.func.substr(sa.func.ltrim(text, TRIMMED_SPACES), 1, 1)
    return sa.case(
        (first.in_(DANGEROUS_LEADS), sa.literal(NEUTRALISER, sa.Text) + text),
        (sa.func.substr(text, 1, 1) == NEUTRALISER, sa.literal(NEUTRALISER, sa.Text) + text),
        else_=text,
    )


def _offset() -> tuple[int, str]:
    """The display zone's offset: minutes, and ``+08:00`` (WITA has no summer time)."""
    delta = display_zone().utcoffset(datetime(2000, 1, 1))
    assert delta is not None
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return minutes, f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _timestamp(
    conn: Connection, column: sa.ColumnElement[Any], *, excel: bool = False
) -> sa.ColumnElement[str]:
    """ISO 8601 in the display zone with its offset, whole seconds:
    ``2019-03-01T14:05:00+08:00``; for Excel-flavoured CSV ``01/03/2019 14:05:00``
    (WITA, day first), which an Indonesian-locale spreadsheet reads as a date."""
    minutes, suffix = _offset()
    if conn.dialect.name == "sqlite":
        shape = "%d/%m/%Y %H:%M:%S" if excel else f"%Y-%m-%dT%H:%M:%S{suffix}"
        return sa.func.strftime(shape, column, f"{minutes:+d} minutes")
    local = sa.func.timezone(display_zone().key, column)  # type: ignore[attr-defined]
    return sa.func.to_char(
        local, "DD/MM/YYYY HH24:MI:SS" if excel else f'YYYY-MM-DD"T"HH24:MI:SS"{suffix}"'
    )


def _masked_phone(column: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """``0812-****-7890`` for Indonesian mobiles, ``****7890`` for any other number.

    Done in SQL (a Python function per row would cost more than the rest of the row);
    for mobile numbers it gives what ``phones.mask_phone`` shows on screen (a test
    compares). Service codes (``112``) are not personal and stay as they are.
    """
    last4 = sa.func.substr(column, sa.func.length(column) - 3, 4)
    return sa.case(
        (column.is_(None), ""),
        (column == "", ""),
        (~column.startswith("+"), column),
        (
            column.startswith("+628"),
            sa.literal("0", sa.Text) + sa.func.substr(column, 4, 3) + "-****-" + last4,
        ),
        else_=sa.literal("****", sa.Text) + last4,
    )


def _initial(column: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """The first letter of the name and a dot: enough to tell two callers apart."""
    name = sa.func.trim(sa.func.coalesce(column, ""))
    return sa.case((name == "", ""), else_=sa.func.upper(sa.func.substr(name, 1, 1)) + ".")


def _labels(catalogue: Catalogue, lang: str | None) -> dict[str, sa.ColumnElement[str]]:
    """Catalogue names by code, as CASE expressions (no table to scan per row)."""
    kecamatan = {k.code: k.name for k in catalogue.kecamatan}
    return {
        "category_label": sa.case(
            {c.code: c.label(lang) for c in catalogue.categories}, value=REPORT.c.category, else_=""
        ),
        "kelurahan": sa.case(
            {k.code: k.name for k in catalogue.kelurahan}, value=REPORT.c.kelurahan_code, else_=""
        ),
        "kecamatan": sa.case(kecamatan, value=REPORT.c.kecamatan_code, else_=""),
    }


def _agencies(conn: Connection) -> sa.ScalarSelect[Any]:
    """The agencies a report was forwarded to, in order (an agency twice if forwarded twice)."""
    forwarded = (
        sa.select(REFERRAL.c.agency, REFERRAL.c.id)
        .where(REFERRAL.c.report_id == REPORT.c.id)
        .order_by(REFERRAL.c.id)
        .correlate(REPORT)
        .subquery()
    )
    if conn.dialect.name == "sqlite":
        joined = sa.func.group_concat(forwarded.c.agency, AGENCY_SEPARATOR)
    else:
        joined = sa.func.string_agg(
            forwarded.c.agency, sa.literal_column(f"'{AGENCY_SEPARATOR}' ORDER BY id")
        )
    return sa.select(sa.func.coalesce(joined, "")).select_from(forwarded).scalar_subquery()


@dataclass(frozen=True)
class CellStyle:
    """How a file holds its cells: ``excel`` dates (Excel-flavoured CSV) and ``neutral``
    text (CSV: a quote before a would-be formula; xlsx writes text cells as text)."""

    excel: bool = False
    neutral: bool = True


def export_query(
    conn: Connection,
    filters: ExportFilter,
    *,
    personal: bool = False,
    catalogue: Catalogue | None = None,
    lang: str | None = None,
    style: CellStyle = CellStyle(),
) -> sa.Select[Any]:
    """The one SELECT whose rows are the export's rows, cell for cell."""
    catalogue = catalogue or load_catalogue()
    labels = _labels(catalogue, lang)
    original = REPORT.alias("original")
    moments = {
        "created_at": REPORT.c.created_at,
        "updated_at": REPORT.c.updated_at,
        "answered_at": REPORT.c.call_answered_at,
        "forwarded_at": REPORT.c.first_forwarded_at,
        "acknowledged_at": REPORT.c.first_acknowledged_at,
        "closed_at": REPORT.c.closed_at,
    }
    intervals = [REPORT.c[column] for column in INTERVAL_COLUMNS]  # stored by the database

    def text(expr: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
        return _neutralised(expr, neutral=style.neutral)

    if personal:
        caller = [REPORT.c.caller_phone, text(REPORT.c.caller_name)]
    else:
        caller = [_masked_phone(REPORT.c.caller_phone), text(_initial(REPORT.c.caller_name))]
    cells = [
        REPORT.c.number,
        *(_timestamp(conn, moments[name], excel=style.excel) for name in TIMESTAMP_COLUMNS),
        REPORT.c.category,
        labels["category_label"],
        REPORT.c.kind,
        REPORT.c.priority,
        REPORT.c.status,
        REPORT.c.kelurahan_code,
        labels["kelurahan"],
        REPORT.c.kecamatan_code,
        labels["kecamatan"],
        text(REPORT.c.address),
        text(REPORT.c.description),
        _agencies(conn),
        *intervals,
        text(REPORT.c.operator),
        original.c.number,
        sa.case((REPORT.c.duplicate_of.is_(None), 1), else_=0),
        sa.case((REPORT.c.archived, 1), else_=0),
        *caller,
    ]
    names = columns(personal=personal)
    return (
        sa.select(*(cell.label(name) for cell, name in zip(cells, names, strict=True)))
        .select_from(REPORT.outerjoin(original, original.c.id == REPORT.c.duplicate_of))
        .where(*filters.where())
        .order_by(REPORT.c.created_at, REPORT.c.id)
    )


def call_columns(*, personal: bool) -> tuple[str, ...]:
    return (*CALL_COLUMNS[:4], "caller_phone" if personal else "caller_phone_masked")


def calls_query(
    conn: Connection, period: Period, *, personal: bool = False, style: CellStyle = CellStyle()
) -> sa.Select[Any]:
    """Every call answered in the period: its moment, disposition, operator, report."""
    phone = CALL.c.caller_phone if personal else _masked_phone(CALL.c.caller_phone)
    cells = [
        _timestamp(conn, CALL.c.answered_at, excel=style.excel),
        CALL.c.disposition,
        _neutralised(CALL.c.operator, neutral=style.neutral),
        sa.func.coalesce(REPORT.c.number, ""),
        phone,
    ]
    return (
        sa.select(
            *(c.label(n) for c, n in zip(cells, call_columns(personal=personal), strict=True))
        )
        .select_from(CALL.outerjoin(REPORT, REPORT.c.id == CALL.c.report_id))
        .where(*period.condition(CALL.c.answered_at))
        .order_by(CALL.c.answered_at, CALL.c.id)
    )


def referrals_query(
    conn: Connection, filters: ExportFilter, *, style: CellStyle = CellStyle()
) -> sa.Select[Any]:
    """Every referral of the filtered reports, with its acknowledgement, in order."""

    def text(expr: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
        return _neutralised(expr, neutral=style.neutral)

    cells = [
        REPORT.c.number,
        REFERRAL.c.agency,
        _timestamp(conn, REFERRAL.c.forwarded_at, excel=style.excel),
        text(REFERRAL.c.forwarded_by),
        REFERRAL.c.channel,
        text(REFERRAL.c.agency_ref),
        _timestamp(conn, REFERRAL.c.acknowledged_at, excel=style.excel),
        text(REFERRAL.c.acknowledged_by),
    ]
    return (
        sa.select(*(c.label(n) for c, n in zip(cells, REFERRAL_COLUMNS, strict=True)))
        .select_from(REFERRAL.join(REPORT, REPORT.c.id == REFERRAL.c.report_id))
        .where(*filters.where())
        .order_by(REPORT.c.created_at, REPORT.c.id, REFERRAL.c.id)
    )


@dataclass(frozen=True)
class Sheet:
    """One kind of export file: its columns, its query, and how its cells are typed."""

    name: str  # the xlsx sheet's name
    columns: tuple[str, ...]
    query: Callable[[Connection, CellStyle], sa.Select[Any]]
    timestamps: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset()
    #: A column holding a stored E.164 number, shown in national format (personal data).
    full_phone: str | None = None

    def count(self, db: Database) -> int:
        with db.read() as conn:
            query = self.query(conn, CellStyle()).order_by(None).subquery()
            return int(conn.execute(sa.select(sa.func.count()).select_from(query)).scalar_one())


def report_sheet(
    filters: ExportFilter, *, personal: bool = False, lang: str | None = None
) -> Sheet:
    return Sheet(
        "laporan",
        columns(personal=personal),
        lambda conn, style: export_query(conn, filters, personal=personal, lang=lang, style=style),
        frozenset(TIMESTAMP_COLUMNS),
        frozenset(("priority", *INTERVAL_COLUMNS, "counted", "archived")),
        "caller_phone" if personal else None,
    )


def call_sheet(period: Period, *, personal: bool = False) -> Sheet:
    return Sheet(
        "panggilan",
        call_columns(personal=personal),
        lambda conn, style: calls_query(conn, period, personal=personal, style=style),
        frozenset({"answered_at"}),
        full_phone="caller_phone" if personal else None,
    )


def referral_sheet(filters: ExportFilter) -> Sheet:
    return Sheet(
        "rujukan",
        REFERRAL_COLUMNS,
        lambda conn, style: referrals_query(conn, filters, style=style),
        frozenset({"forwarded_at", "acknowledged_at"}),
    )


def count_reports(db: Database, filters: ExportFilter) -> int:
    """How many rows an export with ``filters`` writes (for the progress bar)."""
    with db.read() as conn:
        query = sa.select(sa.func.count()).select_from(REPORT).where(*filters.where())
        return int(conn.execute(query).scalar_one())


@contextmanager
def _row_batches(
    db: Database, sheet: Sheet, style: CellStyle
) -> Iterator[Iterator[Sequence[Sequence[Any]]]]:
    """Batches of finished rows, streamed.

    The cells need no conversion in Python (every column is text or a number made by
    the query). On SQLite the driver's cursor streams by itself and its tuples go to
    the writer as they come (no row objects: measured 15-25 % faster); on PostgreSQL a
    server-side cursor streams them.
    """
    with db.read() as conn:
        query = sheet.query(conn, style)
        fetch: Callable[[], Sequence[Sequence[Any]]]
        if conn.dialect.name == "sqlite":
            result = conn.execute(query)  # no stream_results: nothing is read ahead
            cursor = result.cursor
            fetch = lambda: cursor.fetchmany(BATCH)  # noqa: E731
        else:
            result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(query)
            partitions = result.partitions()
            fetch = lambda: next(partitions, [])  # noqa: E731
        phone_at = sheet.columns.index(sheet.full_phone) if sheet.full_phone else None

        def batches() -> Iterator[Sequence[Sequence[Any]]]:
            while rows := fetch():
                if phone_at is None:
                    yield rows
                else:
                    yield [_with_full_phone(row, phone_at, style.neutral) for row in rows]

        try:
            yield batches()
        finally:
            result.close()


def _with_full_phone(row: Sequence[Any], index: int, neutral: bool) -> tuple[Any, ...]:
    """The stored E.164 number in national format (kept as text by spreadsheets)."""
    cells = list(row)
    shown = format_phone(cells[index])
    cells[index] = neutralise(shown) if neutral else shown
    return tuple(cells)


Progress = Callable[[int], None]


@dataclass(frozen=True)
class CsvFlavour:
    """Plain CSV (``,``, UTF-8) or Excel-flavoured (BOM, ``;``, decimal commas)."""

    excel: bool = False

    @property
    def delimiter(self) -> str:
        return ";" if self.excel else ","

    @property
    def encoding(self) -> str:
        return "utf-8-sig" if self.excel else "utf-8"

    def number(self, value: Any) -> Any:
        """Decimal commas for an Indonesian-locale spreadsheet."""
        if self.excel and isinstance(value, float):
            return repr(value).replace(".", ",")
        return value

    def writer(self, out: IO[str]) -> Any:
        return csv.writer(out, delimiter=self.delimiter, lineterminator="\r\n")


def write_csv(
    db: Database,
    out: IO[str],
    sheet: Sheet,
    *,
    excel: bool = False,
    progress: Progress | None = None,
) -> int:
    """Write the header and every row of ``sheet`` to ``out``; returns the number of rows.

    ``out`` is a text stream opened with ``newline=""``; the BOM (Excel mode) is the
    caller's encoding choice (``CsvFlavour.encoding``).
    """
    writer = CsvFlavour(excel).writer(out)
    writer.writerow(sheet.columns)
    written = 0
    with _row_batches(db, sheet, CellStyle(excel=excel)) as batches:
        for rows in batches:
            writer.writerows(rows)
            written += len(rows)
            if progress:
                progress(len(rows))
    return written


def write_xlsx(db: Database, path: Path, sheet: Sheet, *, progress: Progress | None = None) -> int:
    """An Excel workbook in constant-memory mode: typed WITA dates, text cells as text
    (never a formula, no visible quote), frozen header, autofilter."""
    import xlsxwriter

    names = sheet.columns
    timestamp_at = {names.index(name) for name in sheet.timestamps}
    number_at = {names.index(name) for name in sheet.numbers}
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False}
    )
    try:
        worksheet = workbook.add_worksheet(sheet.name)
        bold = workbook.add_format({"bold": True})
        when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        for index, name in enumerate(names):
            worksheet.set_column(
                index, index, _XLSX_WIDTHS.get(name, 14), when if index in timestamp_at else None
            )
        for index, name in enumerate(names):
            worksheet.write_string(0, index, name, bold)
        worksheet.freeze_panes(1, 0)
        row_number = 0
        with _row_batches(db, sheet, CellStyle(neutral=False)) as batches:
            for rows in batches:
                for row in rows:
                    row_number += 1
                    if row_number >= XLSX_MAX_ROWS:
                        raise ExportRefused("export_xlsx_too_many", limit=XLSX_MAX_ROWS - 1)
                    for index, value in enumerate(row):
                        if value is None or value == "":
                            continue
                        if index in timestamp_at:
                            local = datetime.fromisoformat(value).replace(tzinfo=None)
                            worksheet.write_datetime(row_number, index, local, when)
                        elif index in number_at:
                            worksheet.write_number(row_number, index, value)
                        else:
                            worksheet.write_string(row_number, index, str(value))
                if progress:
                    progress(len(rows))
        worksheet.autofilter(0, 0, max(row_number, 1), len(names) - 1)
    finally:
        workbook.close()
    return row_number


def write_reports_csv(
    db: Database,
    out: IO[str],
    filters: ExportFilter,
    *,
    excel: bool = False,
    personal: bool = False,
    lang: str | None = None,
    progress: Progress | None = None,
) -> int:
    """The reports of ``filters`` as CSV (see ``write_csv``)."""
    sheet = report_sheet(filters, personal=personal, lang=lang)
    return write_csv(db, out, sheet, excel=excel, progress=progress)


def write_reports_xlsx(
    db: Database,
    path: Path,
    filters: ExportFilter,
    *,
    personal: bool = False,
    lang: str | None = None,
    progress: Progress | None = None,
) -> int:
    """The reports of ``filters`` as a workbook (see ``write_xlsx``)."""
    return write_xlsx(
        db, path, report_sheet(filters, personal=personal, lang=lang), progress=progress
    )


_XLSX_WIDTHS: Final = {
    "number": 17, **dict.fromkeys(TIMESTAMP_COLUMNS, 20), "category": 16, "category_label": 28,
    "kind": 12, "priority": 8, "status": 11, "kelurahan_code": 15, "kelurahan": 20,
    "kecamatan_code": 10, "kecamatan": 18, "address": 30, "description": 50, "agencies": 20,
    **dict.fromkeys(INTERVAL_COLUMNS, 12), "operator": 14, "duplicate_of": 17,
    "counted": 9, "archived": 9, "answered_at": 20, "disposition": 14, "report_number": 17,
    "forwarded_at": 20, "acknowledged_at": 20, "forwarded_by": 14, "acknowledged_by": 20,
    "caller_phone": 17, "caller_phone_masked": 17, "caller_name": 20, "caller_name_initial": 8,
}  # fmt: skip


# --- Figures ------------------------------------------------------------------------------


def write_stats_csv(stats: Statistics, out: IO[str], *, excel: bool = False) -> int:
    """The statistics as one flat table (``stats.ROW_FIELDS``)."""
    flavour = CsvFlavour(excel)
    writer = flavour.writer(out)
    writer.writerow(ROW_FIELDS)
    rows = figure_rows(stats)
    writer.writerows([flavour.number(row[name]) for name in ROW_FIELDS] for row in rows)
    return len(rows)


def write_stats_xlsx(stats: Statistics, path: Path) -> int:
    import xlsxwriter

    rows = figure_rows(stats)
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False}
    )
    try:
        sheet = workbook.add_worksheet("statistik")
        bold = workbook.add_format({"bold": True})
        sheet.set_column(0, 2, 22)
        sheet.set_column(3, len(ROW_FIELDS) - 1, 12)
        for index, name in enumerate(ROW_FIELDS):
            sheet.write_string(0, index, name, bold)
        sheet.freeze_panes(1, 0)
        for number, row in enumerate(rows, start=1):
            for index, name in enumerate(ROW_FIELDS):
                value = row[name]
                if isinstance(value, int | float) and not isinstance(value, bool):
                    sheet.write_number(number, index, value)
                elif value != "":
                    sheet.write_string(number, index, str(value))  # text, never a formula
        sheet.autofilter(0, 0, max(len(rows), 1), len(ROW_FIELDS) - 1)
    finally:
        workbook.close()
    return len(rows)


# --- Files ------------------------------------------------------------------------------


@contextmanager
def atomic_path(destination: Path) -> Iterator[Path]:
    """A temporary path beside ``destination``, renamed over it only if the block succeeds.

    Only a regular file is ever replaced: a device (``/dev/null``), a FIFO, a socket or
    a directory at the destination is refused, before writing and again just before
    the rename. A symbolic link to a regular file is written through: the file it
    points to is replaced and the link stays (a link to anything else is refused). The
    new file is readable by its owner only (it may hold personal data).
    """
    destination = writable_destination(destination)
    folder = destination.parent
    if not folder.is_dir():
        raise ExportRefused("export_folder_missing", path=str(folder))
    handle, temp_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=folder)
    os.close(handle)
    temp = Path(temp_name)
    try:
        try:
            yield temp
            with temp.open("rb+") as done:
                os.fsync(done.fileno())
        except OSError as exc:  # the disk filled, a quota, the file size limit
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise ExportRefused("export_disk_full", path=str(destination)) from None
            raise ExportRefused(
                "export_unwritable", path=str(destination), reason=exc.strerror or str(exc)
            ) from None
        if writable_destination(destination) != destination:
            raise ExportRefused("export_not_a_file", path=str(destination))
        os.replace(temp, destination)
    finally:
        temp.unlink(missing_ok=True)


def writable_destination(destination: Path) -> Path:
    """The path to replace for ``destination``: itself, or the regular file a symbolic
    link points to; refuses anything else that is there (see ``atomic_path``)."""
    try:
        info = os.lstat(destination)
    except FileNotFoundError:
        return destination
    except OSError as exc:
        raise ExportRefused(
            "export_unwritable", path=str(destination), reason=exc.strerror or str(exc)
        ) from None
    if stat.S_ISLNK(info.st_mode):
        target = destination.resolve()
        try:
            target_info = os.lstat(target)
        except OSError:
            raise ExportRefused("export_not_a_file", path=str(destination)) from None
        if not stat.S_ISREG(target_info.st_mode):
            raise ExportRefused("export_not_a_file", path=str(destination))
        return target
    if not stat.S_ISREG(info.st_mode):
        raise ExportRefused("export_not_a_file", path=str(destination))
    return destination


@contextmanager
def atomic_text(destination: Path, encoding: str) -> Iterator[IO[str]]:
    """A text file written under a temporary name and renamed when complete."""
    with atomic_path(destination) as temp, temp.open("w", encoding=encoding, newline="") as out:
        yield out


def record_personal_data_export(
    db: Database,
    *,
    operator: str,
    destination: str,
    filters: ExportFilter,
    rows: int,
    clock: Clock = system_clock,
) -> None:
    """Write the audit entry for an export with full phone numbers and names (UU 27/2022).

    Called before the first row is written, so even an interrupted export is on record.
    """
    record(
        db,
        operator=operator,
        action=Action.EXPORT_PERSONAL,
        subject=destination[:120],
        details={"rows": rows, **filters.describe()},
        clock=clock,
    )


#: More reports than this read at once with their callers' numbers and names (``list``)
#: is a bulk read, recorded like a personal-data export.
BULK_READ_ROWS: Final = 100


def record_bulk_read(
    db: Database,
    *,
    operator: str,
    via: str,
    subject: str,
    rows: int,
    details: dict[str, Any] | None = None,
    clock: Clock = system_clock,
) -> None:
    """Record a bulk read of personal data (a long ``list``, a ``backup``) as the
    personal-data export it is: who, how, how many rows."""
    record(
        db,
        operator=operator,
        action=Action.EXPORT_PERSONAL,
        subject=subject[:120],
        details={"via": via, "rows": rows, **(details or {})},
        clock=clock,
    )
