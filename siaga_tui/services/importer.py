"""Importing reports from CSV: the export's own files and historical spreadsheets.

Two layouts are read, told apart by their header (columns by name, in any order):

- **the export's** (``siaga112 export``, plain or ``--excel``): every export column.
  Each report is filed again with its own times and operator, forwarded to its
  agencies, acknowledged and closed (or linked as a duplicate) with the same events
  the console writes. The source number is kept as ``report.import_key``.
- **the minimal layout** for historical spreadsheets: ``date, category, kelurahan,
  description, status`` and optionally ``time``, ``address`` and ``agency``. The date
  is ``YYYY-MM-DD`` or ``DD/MM/YYYY``, the category its code or its Indonesian or
  English label, the kelurahan a name, alias or code. A report ``ditangani`` or
  ``selesai`` with no agency is forwarded to its category's first primary agency.
  ``import_key`` is a SHA-256 of the row's content (and how many identical rows came
  before it in the file, so two identical reports stay two).

Every row is validated first (``ReportService.validate_new_report``: catalogue, phone,
text rules) and every bad row is reported with its line number and the field; nothing
is written unless all rows are good, or with ``skip_bad`` the good ones are. Rows whose
``import_key`` is already in the database are left alone, so a file imported twice adds
nothing the second time. Writing goes through ``ReportService`` itself, so numbers,
events and audit entries are exactly what the console writes; rows are written in
chunks of ``CHUNK`` per transaction (no per-row commit, and the write lock is never
held for long while operators are saving).

Encodings: UTF-8 (with or without BOM) and UTF-16 with a BOM are read. Anything else is
refused with the line of the first bad byte, unless the caller names the encoding
(``encoding="latin-1"``): a guessed encoding would silently turn names into garbage.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siaga_tui.core.catalogue import Catalogue, Category, load_catalogue, normalise_name
from siaga_tui.core.db import Database
from siaga_tui.core.errors import InvalidInput, SiagaError, ValidationError
from siaga_tui.core.models import REPORT, Status
from siaga_tui.core.phones import normalize_phone
from siaga_tui.core.timeutil import Clock, as_utc, display_zone, system_clock
from siaga_tui.services import audit
from siaga_tui.services.events import ImportedBy
from siaga_tui.services.export import (
    AGENCY_SEPARATOR,
    BASE_COLUMNS,
    DANGEROUS_LEADS,
    MASKED_CALLER_COLUMNS,
    NEUTRALISER,
    PERSONAL_CALLER_COLUMNS,
    TIMESTAMP_COLUMNS,
)
from siaga_tui.services.reports import NewReport, ReportService, normalise_report_number

#: Reports written per transaction.
CHUNK: Final = 500
MINIMAL_REQUIRED: Final = ("date", "category", "kelurahan", "description", "status")
MINIMAL_OPTIONAL: Final = ("time", "address", "agency")
#: Indonesian headers historical spreadsheets use, for the minimal layout's columns.
HEADER_ALIASES: Final = {
    "tanggal": "date", "kategori": "category", "keterangan": "description",
    "deskripsi": "description", "uraian": "description", "jam": "time", "waktu": "time",
    "alamat": "address", "instansi": "agency", "dinas": "agency",
}  # fmt: skip
STATUS_WORDS: Final = {
    "menunggu": Status.MENUNGGU, "wait": Status.MENUNGGU, "waiting": Status.MENUNGGU,
    "ditangani": Status.DITANGANI, "handled": Status.DITANGANI, "in progress": Status.DITANGANI,
    "selesai": Status.SELESAI, "done": Status.SELESAI, "closed": Status.SELESAI,
}  # fmt: skip
_ISO_DATE: Final = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY_DATE: Final = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_TIME: Final = re.compile(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?")
_NUMBER: Final = re.compile(r"112-\d{4}-\d{6}")
_DELIMITERS: Final = (",", ";", "\t")


class ImportRefused(SiagaError):
    """The file as a whole cannot be read: encoding, header, layout."""


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be imported: its line in the file and what is wrong."""

    line: int
    errors: tuple[ValidationError, ...]

    def describe(self, lang: str | None = None) -> str:
        return "; ".join(error.describe(lang) for error in self.errors)


@dataclass(frozen=True)
class ImportResult:
    layout: str  # "export" or "minimal"
    rows: int
    added: int
    already: int
    bad: tuple[BadRow, ...]
    written: bool  # False when bad rows stopped the import

    @property
    def numbers(self) -> int:
        return self.added


@dataclass(frozen=True)
class _Planned:
    """One good row, ready to be written: the report and what happened to it after."""

    line: int
    key: str
    report: NewReport
    operator: str
    status: Status
    agencies: tuple[str, ...]
    forwarded_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime
    duplicate_of: str | None = None
    number: str | None = None


# --- Reading the file ---------------------------------------------------------------------


def read_text(path: Path, encoding: str | None = None) -> str:
    """The file's text: UTF-8 (BOM or not), UTF-16 with a BOM, or the encoding named."""
    data = path.read_bytes()
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise ImportRefused(
                "import_bad_encoding_named", encoding=encoding, reason=str(exc)
            ) from exc
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data[len(codecs.BOM_UTF8) :], "utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16")
    if b"\x00" in data[:4096]:
        raise ImportRefused("import_utf16_without_bom")
    return _decode(data, "utf-8")


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n" if encoding == "utf-8" else "\n".encode(encoding)) + 1
        raise ImportRefused("import_not_utf8", line=line, encoding=encoding) from exc


def _dialect(text: str) -> str:
    """The delimiter that splits the header into the most known column names."""
    first = text.split("\n", 1)[0]
    known = {*BASE_COLUMNS, *MASKED_CALLER_COLUMNS, *PERSONAL_CALLER_COLUMNS, *MINIMAL_REQUIRED,
             *MINIMAL_OPTIONAL, *HEADER_ALIASES}  # fmt: skip

    def score(delimiter: str) -> int:
        cells = next(csv.reader([first], delimiter=delimiter), [])
        return sum(_header_name(cell) in known or cell.strip().lower() in known for cell in cells)

    return max(_DELIMITERS, key=score)


def _header_name(cell: str) -> str:
    name = cell.strip().lower().replace(" ", "_")
    return HEADER_ALIASES.get(name, name)


def _unneutralise(value: str) -> str:
    """Remove the quote the export put before a dangerous first character."""
    if value.startswith(NEUTRALISER) and value[1:2] and value[1:].startswith(DANGEROUS_LEADS):
        return value[1:]
    return value


# --- The importer -------------------------------------------------------------------------


class Importer:
    """Reads, checks and writes one file's reports for one operator."""

    def __init__(
        self,
        db: Database,
        *,
        operator: str,
        clock: Clock = system_clock,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock
        self.catalogue = catalogue or load_catalogue()
        self._service = ReportService(db, operator=operator, clock=clock, catalogue=self.catalogue)
        self._categories = self._category_names()

    def run(
        self,
        path: Path,
        *,
        skip_bad: bool = False,
        encoding: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ImportResult:
        text = read_text(path, encoding)
        delimiter = _dialect(text)
        # The whole file is in memory already: a huge cell is read, then refused by the
        # field's own rule with its line, instead of failing inside the csv module.
        csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
        # StringIO(newline="") ends lines only at CR and LF, as CSV does; splitlines()
        # would also split rows at NEL, FF, VT and U+2028 inside a caller's text.
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise ImportRefused("import_empty_file")
        names = [_header_name(cell) for cell in header]
        layout = self._layout(names)
        planned: list[_Planned] = []
        bad: list[BadRow] = []
        seen: Counter[str] = Counter()
        while True:
            line = reader.line_num + 1  # where the record starts (a cell may hold line breaks)
            record = next(reader, None)
            if record is None:
                break
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(names):
                error = ValidationError(
                    "row", "import_wrong_cell_count", found=len(record), expected=len(names)
                )
                bad.append(BadRow(line, (error,)))
                continue
            row = dict(zip(names, record, strict=True))
            try:
                if layout == "export":
                    plan = self._plan_export(line, row, path)
                else:
                    plan = self._plan_minimal(line, row, seen)
            except InvalidInput as exc:
                bad.append(BadRow(line, tuple(exc.errors)))
            except ValidationError as exc:
                bad.append(BadRow(line, (exc,)))
            else:
                planned.append(plan)
        rows = len(planned) + len(bad)
        if bad and not skip_bad:
            return ImportResult(layout, rows, 0, 0, tuple(bad), written=False)
        imported = ImportedBy(
            operator=self.operator,
            at=self.clock(),
            file=str(path.resolve()),
            sha256=file_sha256(path),
        )
        added, already, late = self._write(planned, imported, progress, skip_bad=skip_bad)
        audit.record(
            self.db,
            operator=self.operator,
            action=audit.Action.IMPORTED,
            subject=path.name[:120],
            details={
                "file": imported.file,
                "sha256": imported.sha256,
                "layout": layout,
                "rows": rows,
                "added": added,
                "already": already,
                "bad": len(bad) + len(late),
            },
            clock=self.clock,
        )
        return ImportResult(layout, rows, added, already, tuple(bad + late), written=True)

    # Layout -----------------------------------------------------------------------------

    def _layout(self, names: list[str]) -> str:
        duplicated = [name for name, count in Counter(names).items() if count > 1]
        if duplicated:
            raise ImportRefused("import_column_twice", column=duplicated[0])
        if "number" in names:
            caller = PERSONAL_CALLER_COLUMNS if "caller_phone" in names else MASKED_CALLER_COLUMNS
            expected: tuple[str, ...] = (*BASE_COLUMNS, *caller)
            optional: tuple[str, ...] = ()
            layout = "export"
        else:
            expected, optional = MINIMAL_REQUIRED, MINIMAL_OPTIONAL
            layout = "minimal"
        missing = [name for name in expected if name not in names]
        if missing:
            raise ImportRefused("import_column_missing", column=missing[0], layout=layout)
        extra = [name for name in names if name not in expected and name not in optional]
        if extra:
            raise ImportRefused("import_column_unknown", column=extra[0] or "''", layout=layout)
        return layout

    # Rows of the minimal layout -------------------------------------------------------------

    def _plan_minimal(self, line: int, row: dict[str, str], seen: Counter[str]) -> _Planned:
        errors: list[ValidationError] = []
        created_at = _collect(errors, lambda: self._moment(row["date"], row.get("time", "")))
        category = _collect(errors, lambda: self._category(row["category"]))
        status = _collect(errors, lambda: _status(row["status"]))
        agencies: tuple[str, ...] = ()
        if row.get("agency", "").strip():
            agencies = _collect(errors, lambda: self._agencies(row["agency"])) or ()
        data = NewReport(
            category=category.code if category else "",
            kelurahan=row["kelurahan"],
            description=row["description"],
            address=row.get("address", ""),
        )
        try:
            self._service.validate_new_report(data)
        except InvalidInput as exc:
            errors.extend(e for e in exc.errors if e.field != "category" or category is not None)
        if errors:
            raise InvalidInput(errors)
        assert created_at is not None and category is not None and status is not None
        if status == Status.MENUNGGU and agencies:
            raise InvalidInput([ValidationError("status", "import_waiting_with_agency")])
        if status == Status.DITANGANI and not agencies:
            agencies = category.primary_agencies[:1]
        content = "\x1f".join(
            [created_at.isoformat(), category.code, data.kelurahan.strip().lower(), data.description.strip(),
             status.value, data.address.strip(), ",".join(agencies)]
        )  # fmt: skip
        seen[content] += 1
        key = hashlib.sha256(f"{content}\x1e{seen[content]}".encode()).hexdigest()
        return _Planned(
            line=line,
            key=key,
            report=replace(data, created_at=created_at, answered_at=created_at, import_key=key),
            operator=self.operator,
            status=status,
            agencies=agencies,
            forwarded_at=created_at,
            acknowledged_at=None,
            closed_at=created_at,
        )

    def _moment(self, day_text: str, time_text: str) -> datetime:
        day = _date(day_text)
        at = time(0)
        if time_text.strip():
            match = _TIME.fullmatch(time_text.strip())
            try:
                if not match:
                    raise ValueError(time_text)
                at = time(int(match[1]), int(match[2]), int(match[3] or 0))
            except ValueError:
                raise ValidationError("time", "import_bad_time", value=time_text) from None
        moment = as_utc(datetime.combine(day, at, display_zone()))
        if moment > self.clock():
            raise ValidationError("date", "import_future_date", value=day_text)
        return moment

    def _category(self, text: str) -> Category:
        found = self._categories.get(normalise_name(text or ""))
        if found is None:
            raise ValidationError("category", "category_unknown", value=text)
        return found

    def _category_names(self) -> dict[str, Category]:
        names: dict[str, Category] = {}
        for category in self.catalogue.categories:
            for name in (category.code, category.label_id, category.label_en):
                names.setdefault(normalise_name(name), category)
        return names

    def _agencies(self, text: str) -> tuple[str, ...]:
        codes: list[str] = []
        known = {a.code for a in self.catalogue.agencies}
        for part in text.split(","):
            code = part.strip().lower()
            if not code:
                continue
            if code not in known:
                raise ValidationError("agency", "agency_unknown", value=part.strip())
            codes.append(code)
        return tuple(codes)

    # Rows of the export's layout ---------------------------------------------------------------

    def _plan_export(self, line: int, raw: dict[str, str], path: Path) -> _Planned:
        row = {name: _unneutralise(value) for name, value in raw.items()}
        errors: list[ValidationError] = []
        number = row["number"].strip()
        if not _NUMBER.fullmatch(number):
            errors.append(ValidationError("number", "import_bad_number", value=number))
        moments: dict[str, datetime | None] = {}
        for name in TIMESTAMP_COLUMNS:
            moments[name] = _collect(errors, partial(_row_timestamp, row, name))
        status = _collect(errors, lambda: _status(row["status"]))
        agencies = (
            _collect(errors, lambda: self._agencies(row["agencies"].replace(AGENCY_SEPARATOR, ",")))
            or ()
        )
        phone = None
        if "caller_phone" in row:
            phone = _collect(errors, lambda: normalize_phone(row["caller_phone"]))
        duplicate_of = row["duplicate_of"].strip() or None
        if duplicate_of and not _NUMBER.fullmatch(duplicate_of):
            errors.append(ValidationError("duplicate_of", "import_bad_number", value=duplicate_of))
        priority = _collect(errors, lambda: _priority(row["priority"]))
        created_at = moments["created_at"]
        data = NewReport(
            category=row["category"].strip(),
            kelurahan=row["kelurahan_code"],
            description=row["description"],
            address=row["address"],
            phone=None,
            caller_name=row.get("caller_name") or None,
            answered_at=moments["answered_at"],
            priority=priority,
            created_at=created_at,
            import_key=number,
        )
        try:
            self._service.validate_new_report(data)
        except InvalidInput as exc:
            errors.extend(exc.errors)
        if status is not None and not errors:
            errors.extend(_lifecycle_problems(status, agencies, moments, duplicate_of))
        if created_at is not None and created_at > self.clock():
            errors.append(
                ValidationError("created_at", "import_future_date", value=row["created_at"])
            )
        if errors:
            raise InvalidInput(errors)
        assert created_at is not None and status is not None
        closed_at = moments["closed_at"] or created_at
        return _Planned(
            line=line,
            key=number,
            report=replace(data, phone=phone),
            operator=row["operator"].strip() or self.operator,
            status=status,
            agencies=agencies,
            forwarded_at=moments["forwarded_at"] or created_at,
            acknowledged_at=moments["acknowledged_at"],
            closed_at=closed_at,
            duplicate_of=duplicate_of,
            number=number,
        )

    # Writing ---------------------------------------------------------------------------------

    def _write(
        self,
        planned: list[_Planned],
        imported: ImportedBy,
        progress: Callable[[int], None] | None,
        *,
        skip_bad: bool,
    ) -> tuple[int, int, list[BadRow]]:
        """Write the planned rows in chunks; a row the service refuses now (the database
        changed since the check) ends the import at that chunk, or with ``skip_bad`` is
        listed and left out."""
        added = already = 0
        late: list[BadRow] = []
        new_ids: dict[str, int] = {}  # source number -> id here, for duplicates
        note = f"Diimpor dari {Path(imported.file).name}"
        for start in range(0, len(planned), CHUNK):
            chunk = planned[start : start + CHUNK]
            with self.db.write() as conn:
                present = _present_keys(conn, [p.key for p in chunk])
                joined = _JoinedDatabase(self.db, conn)
                for plan in chunk:
                    if plan.key in present:
                        already += 1
                        continue
                    present.add(plan.key)
                    try:
                        if skip_bad:  # a savepoint per row, so one refusal drops only its row
                            with conn.begin_nested():
                                report_id = self._file(joined, plan, note, new_ids, imported)
                        else:
                            report_id = self._file(joined, plan, note, new_ids, imported)
                    except SiagaError as exc:
                        error = _as_row_error(exc)
                        if not skip_bad:
                            raise ImportRefused(
                                "import_row_refused", line=plan.line, reason=error.describe()
                            ) from exc
                        late.append(BadRow(plan.line, (error,)))
                        continue
                    if plan.number:
                        new_ids[plan.number] = report_id
                    added += 1
            if progress:
                progress(len(chunk))
        return added, already, late

    def _file(
        self, db: Database, plan: _Planned, note: str, new_ids: dict[str, int], imported: ImportedBy
    ) -> int:
        """File one report and replay what happened to it, each step at its own time
        (its audit entries: now, by whoever runs the import)."""
        moment = _Moment(plan.report.created_at or self.clock())
        service = ReportService(
            db, operator=plan.operator, clock=moment, catalogue=self.catalogue, imported=imported
        )
        report_id = service.create_report(plan.report).id
        moment.now = plan.forwarded_at
        referrals = [service.forward(report_id, agency) for agency in plan.agencies]
        if plan.acknowledged_at and referrals:
            moment.now = plan.acknowledged_at
            service.acknowledge(report_id, referrals[0])
        if plan.status == Status.SELESAI:
            moment.now = plan.closed_at
            original = new_ids.get(plan.duplicate_of or "") or _existing(db, plan.duplicate_of)
            if original is not None:
                service.mark_duplicate(report_id, original)
            else:
                service.change_status(report_id, Status.SELESAI, note=note)
        return report_id


# --- Helpers ----------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file's bytes (recorded with the import, to match the file)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Moment:
    """A clock the importer sets to each step's recorded time."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class _JoinedDatabase(Database):
    """The database as seen from one open transaction: service calls join it.

    ``ReportService`` opens ``db.write()`` for each change; through this object every
    such "transaction" is the importer's chunk (under a savepoint per row), so the
    service's own code writes the rows, events and audit entries without a commit each.
    """

    def __init__(self, db: Database, conn: Connection) -> None:
        super().__init__(url=db.url, engine=db.engine)
        self._conn = conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        yield self._conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        yield self._conn


def _present_keys(conn: Connection, keys: list[str]) -> set[str]:
    found = conn.execute(sa.select(REPORT.c.import_key).where(REPORT.c.import_key.in_(keys)))
    return {str(key) for (key,) in found}


def _existing(db: Database, number: str | None) -> int | None:
    """A report already here: imported earlier with that source number, or that number."""
    if not number:
        return None
    with db.read() as conn:
        found = conn.execute(
            sa.select(REPORT.c.id)
            .where(
                sa.or_(
                    REPORT.c.import_key == number,
                    REPORT.c.number == normalise_report_number(number),
                )
            )
            .order_by(REPORT.c.import_key.is_(None))
        ).first()
    return int(found[0]) if found else None


def _as_row_error(exc: SiagaError) -> ValidationError:
    if isinstance(exc, ValidationError):
        return exc
    if isinstance(exc, InvalidInput) and exc.errors:
        return exc.errors[0]
    params = {k: v for k, v in exc.params.items() if k != "field"}
    return ValidationError("row", exc.key, **params)


def _collect(errors: list[ValidationError], produce: Callable[[], Any]) -> Any:
    try:
        return produce()
    except InvalidInput as exc:
        errors.extend(exc.errors)
    except ValidationError as exc:
        errors.append(exc)
    return None


def _date(text: str) -> date:
    value = (text or "").strip()
    match = _ISO_DATE.fullmatch(value)
    parts = (match[1], match[2], match[3]) if match else None
    if parts is None and (match := _DMY_DATE.fullmatch(value)):
        parts = (match[3], match[2], match[1])
    try:
        if parts is None:
            raise ValueError(value)
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise ValidationError("date", "import_bad_date", value=value) from None


def _row_timestamp(row: Mapping[str, str], name: str) -> datetime | None:
    return _timestamp(name, row[name], required=name == "created_at")


def _timestamp(name: str, text: str, *, required: bool) -> datetime | None:
    value = (text or "").strip()
    if not value:
        if required:
            raise ValidationError(name, "import_value_required")
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(name, "import_bad_timestamp", value=value) from None
    if moment.tzinfo is None:
        raise ValidationError(name, "import_bad_timestamp", value=value)
    return as_utc(moment)


def _status(text: str) -> Status:
    found = STATUS_WORDS.get((text or "").strip().lower())
    if found is None:
        raise ValidationError(
            "status", "choice_unknown", value=text, allowed=", ".join(s.value for s in Status)
        )
    return found


def _priority(text: str) -> int | None:
    value = (text or "").strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 9:
        raise ValidationError("priority", "import_bad_priority", value=value)
    return int(value)


def _lifecycle_problems(
    status: Status,
    agencies: tuple[str, ...],
    moments: dict[str, datetime | None],
    duplicate_of: str | None,
) -> list[ValidationError]:
    """What in an export row's lifecycle cannot be replayed by the service's rules."""
    problems: list[ValidationError] = []
    if status == Status.DITANGANI and not agencies:
        problems.append(ValidationError("agencies", "import_handled_needs_agency"))
    if status == Status.MENUNGGU and agencies:
        problems.append(ValidationError("status", "import_waiting_with_agency"))
    if status == Status.SELESAI and moments["closed_at"] is None:
        problems.append(ValidationError("closed_at", "import_value_required"))
    if duplicate_of and status != Status.SELESAI:
        problems.append(ValidationError("duplicate_of", "import_duplicate_not_closed"))
    created = moments["created_at"]
    for name in ("forwarded_at", "acknowledged_at", "closed_at"):
        moment = moments[name]
        if moment is not None and created is not None and moment < created - timedelta(seconds=1):
            problems.append(
                ValidationError(name, "import_before_created", value=moment.isoformat())
            )
    return problems
