"""Importing reports, their referrals and calls: the export's own files and spreadsheets.

The layout is told by the header (columns by name, in any order; see
``import_source`` for the file formats read):

- **reports, the export's** (``siaga112 export``, CSV plain or ``--excel``, or xlsx):
  each report is filed again with its own times and operator, forwarded, acknowledged
  and closed (or linked as a duplicate) with the same events the console writes. The
  source number is kept as ``report.import_key``. With the export's referrals file
  (``export --referrals``) given in the same import, every referral is replayed as it
  was (agency, time, operator, channel, acknowledgement); without it, the ``agencies``
  column is used.
- **calls** (``export --calls``): every answered call with its disposition, time and
  operator, linked to its report by number. Idempotent like reports: a call already
  here (same moment, disposition, operator and report) is not added again.
- **the minimal layout** for historical spreadsheets: ``date, category, kelurahan,
  description, status`` and optionally ``time``, ``address``, ``agency``, ``phone``
  (``no_hp``, ``telepon``) and ``name`` (``nama``). A sheet says only when a report
  was recorded: the other moments (answered, forwarded, acknowledged, closed) stay
  unknown, the report has no call, and a ``ditangani`` row without an agency is
  handled by an agency the source does not name (``NOT_NAMED_AGENCY``), never one
  guessed from its category. ``import_key`` is a SHA-256 of the row's content (and how
  many identical rows came before it, so two identical reports stay two).

Columns the layout does not know are ignored and named once (``ImportResult.ignored``).
Rows imported as history (``history=True``, and by default every row recorded before
the backlog age) are archived: counted in the statistics and exports, never in the
live queue, the handover, alarms or "oldest waiting".

Every row is validated first, and bad rows are streamed: the first ``SHOWN_BAD`` are
kept with their line and field, the rest only counted, so memory stays flat whatever
the file. Nothing is written unless all rows are good, or with ``skip_bad`` the good
ones are; ``dry_run`` checks and writes nothing. ``run_all`` checks every file of an
import before it writes any, so one bad file writes nothing from the others. It does
not hold one transaction over them all: a large import would then hold the write lock
for minutes, and the desks' saves would time out behind it. A row the service refuses
only while writing (the database changed since the check) or a storage failure can
therefore still stop an import part-way; the message says what was saved, and the
same import run again adds only the rest. Rows already in the database are left
alone, so a file imported twice adds nothing the second time. Reports are written in
the order of their dates (so their numbers follow the dates), through
``ReportService`` itself, ``CHUNK`` per transaction.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siaga_tui.core.catalogue import (
    NOT_NAMED_AGENCY,
    Catalogue,
    Category,
    load_catalogue,
    normalise_name,
)
from siaga_tui.core.db import Database, JoinedDatabase
from siaga_tui.core.errors import InvalidInput, SiagaError, StorageError, ValidationError
from siaga_tui.core.fields import collect
from siaga_tui.core.models import CALL, REPORT, Channel, Disposition, Status
from siaga_tui.core.phones import normalize_phone
from siaga_tui.core.timeutil import Clock, SteppedClock, system_clock
from siaga_tui.services import audit
from siaga_tui.services.events import ImportedBy
from siaga_tui.services.export import (
    AGENCY_SEPARATOR,
    BASE_COLUMNS,
    CALL_COLUMNS,
    DANGEROUS_LEADS,
    MASKED_CALLER_COLUMNS,
    NEUTRALISER,
    PERSONAL_CALLER_COLUMNS,
    REFERRAL_COLUMNS,
    TIMESTAMP_COLUMNS,
)
from siaga_tui.services.import_source import ImportRefused, Row, RowProblem, open_source, trimmed
from siaga_tui.services.import_values import parse_moment
from siaga_tui.services.queue import BACKLOG_DAYS, backlog_cutoff
from siaga_tui.services.reports import (
    NewReport,
    ReportService,
    insert_call,
    normalise_report_number,
)

__all__ = ["BadRow", "ImportRefused", "ImportResult", "Importer"]

_T = TypeVar("_T")

#: Reports written per transaction.
CHUNK: Final = 500
#: Bad rows kept with their line and reason; the rest are counted.
SHOWN_BAD: Final = 100
MINIMAL_REQUIRED: Final = ("date", "category", "kelurahan", "description", "status")
MINIMAL_OPTIONAL: Final = ("time", "address", "agency", "phone", "caller_name")
EXPORT_REQUIRED: Final = (
    "number",
    "created_at",
    "category",
    "status",
    "kelurahan_code",
    "description",
)
EXPORT_OPTIONAL: Final = tuple(
    name
    for name in (*BASE_COLUMNS, *MASKED_CALLER_COLUMNS, *PERSONAL_CALLER_COLUMNS)
    if name not in EXPORT_REQUIRED
)
CALLS_REQUIRED: Final = ("answered_at", "disposition")
REFERRALS_REQUIRED: Final = ("report_number", "agency", "forwarded_at")
#: Names historical spreadsheets use, for the columns above.
HEADER_ALIASES: Final = {
    "tanggal": "date", "tgl": "date", "kategori": "category", "jenis_laporan": "category",
    "keterangan": "description", "deskripsi": "description", "uraian": "description",
    "kejadian": "description", "jam": "time", "waktu": "time", "pukul": "time",
    "alamat": "address", "lokasi": "address", "instansi": "agency", "dinas": "agency",
    "no_hp": "phone", "nomor_hp": "phone", "hp": "phone", "telepon": "phone", "telp": "phone",
    "no_telp": "phone", "no_telepon": "phone", "nomor_telepon": "phone",
    "nama": "caller_name", "nama_pelapor": "caller_name", "pelapor": "caller_name",
    "name": "caller_name", "desa": "kelurahan",
}  # fmt: skip
STATUS_WORDS: Final = {
    "menunggu": Status.MENUNGGU, "wait": Status.MENUNGGU, "waiting": Status.MENUNGGU,
    "ditangani": Status.DITANGANI, "handled": Status.DITANGANI, "in progress": Status.DITANGANI,
    "selesai": Status.SELESAI, "done": Status.SELESAI, "closed": Status.SELESAI,
}  # fmt: skip
_KNOWN: Final = frozenset(
    {*BASE_COLUMNS, *MASKED_CALLER_COLUMNS, *PERSONAL_CALLER_COLUMNS, *MINIMAL_REQUIRED,
     *MINIMAL_OPTIONAL, *HEADER_ALIASES, *CALL_COLUMNS, *REFERRAL_COLUMNS}
)  # fmt: skip


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be imported: its line in the file and what is wrong."""

    line: int
    errors: tuple[ValidationError, ...]

    def describe(self, lang: str | None = None) -> str:
        return "; ".join(error.describe(lang) for error in self.errors)


@dataclass(frozen=True)
class ImportResult:
    layout: str  # "export", "minimal", "calls" or "referrals"
    rows: int
    added: int
    already: int
    bad: tuple[BadRow, ...]  # the first SHOWN_BAD
    written: bool  # False when bad rows stopped the import, or a dry run
    bad_count: int = 0  # every bad row, listed or not
    archived: int = 0  # of the added reports, how many as history
    ignored: tuple[str, ...] = ()  # header cells of columns the layout does not know
    dry_run: bool = False

    @property
    def numbers(self) -> int:
        return self.added


@dataclass(frozen=True)
class _Step:
    """One forward (and its acknowledgement) to replay on an imported report."""

    agency: str
    forwarded_at: datetime | None
    forwarded_by: str | None = None
    channel: str = Channel.TELEPON
    agency_ref: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None


@dataclass(frozen=True)
class _Planned:
    """One good report row, ready to be written: the report and what happened to it."""

    line: int
    key: str
    report: NewReport
    operator: str
    status: Status
    steps: tuple[_Step, ...]
    closed_at: datetime | None  # None: closed (if selesai) at a moment not given
    forward_known: bool = True
    ack_known: bool = True
    duplicate_of: str | None = None
    number: str | None = None


@dataclass(frozen=True)
class _PlannedCall:
    line: int
    answered_at: datetime
    disposition: str
    operator: str
    phone: str | None
    report_number: str | None


@dataclass
class _Errors:
    """Bad rows as they stream: the first ``SHOWN_BAD`` kept, every one counted."""

    shown: list[BadRow] = field(default_factory=list)
    count: int = 0

    def add(self, row: BadRow) -> None:
        self.count += 1
        if len(self.shown) < SHOWN_BAD:
            self.shown.append(row)


@dataclass
class _Checked:
    """One file read and checked, its rows planned; not yet written."""

    path: Path
    layout: str
    rows: int
    planned: list[Any]
    errors: _Errors
    ignored: tuple[str, ...]
    dry_run: bool
    sha256: str | None  # of the bytes checked (None for a dry run, which writes nothing)

    def result(
        self,
        added: int,
        already: int,
        archived: int,
        *,
        written: bool,
        late: Sequence[BadRow] = (),
    ) -> ImportResult:
        return ImportResult(
            self.layout, self.rows, added, already, (*self.errors.shown, *late)[:SHOWN_BAD],
            written, self.errors.count + len(late), archived, self.ignored, self.dry_run,
        )  # fmt: skip


# --- The importer -------------------------------------------------------------------------


class Importer:
    """Reads, checks and writes one import's files for one operator."""

    def __init__(
        self,
        db: Database,
        *,
        operator: str,
        clock: Clock = system_clock,
        catalogue: Catalogue | None = None,
        history: bool = False,
        backlog_days: int = BACKLOG_DAYS,
    ) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock
        self.catalogue = catalogue or load_catalogue()
        #: Archive every row (``--history``); otherwise rows older than the backlog age.
        self.history = history
        self.backlog_days = backlog_days
        self._service = ReportService(db, operator=operator, clock=clock, catalogue=self.catalogue)
        self._categories = self._category_names()
        self._cutoff = backlog_cutoff(clock(), backlog_days)
        self._referrals: dict[str, list[_Step]] = {}
        #: The report numbers of this import's reports files, for its calls file.
        self._numbers: set[str] = set()
        self._raw_cells = False

    # Entry points -------------------------------------------------------------------------

    def layout_of(self, path: Path, encoding: str | None = None) -> str:
        """Which layout a file has (to import referrals first, calls last)."""
        with open_source(path, encoding, _is_known) as source:
            return _layout(_header_names(source.header)[0])

    def run_all(
        self,
        paths: list[Path],
        *,
        skip_bad: bool = False,
        encoding: str | None = None,
        dry_run: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> list[tuple[Path, ImportResult]]:
        """Several files of one import, all or nothing: every file is checked
        (referrals first, then reports, then calls) before any is written, so a bad row
        in any of them writes nothing from any (unless ``skip_bad``).

        When a file stops the import, the results are those of the files checked so
        far, all unwritten; the one with bad rows is the one that stopped it. With
        several files, a refusal of a whole file names the file.
        """
        order = {"referrals": 0, "export": 1, "minimal": 1, "calls": 2}
        several = len(paths) > 1
        layouts = {
            path: _naming(path, several, partial(self.layout_of, path, encoding)) for path in paths
        }
        checked: list[_Checked] = []
        for path in sorted(paths, key=lambda p: order[layouts[p]]):
            one = _naming(path, several, partial(self._check, path, skip_bad, encoding, dry_run))
            checked.append(one)
            if one.errors.count and not skip_bad and not dry_run:
                return [(c.path, c.result(0, 0, 0, written=False)) for c in checked]
        return [
            (one.path, _naming(one.path, several, partial(self._store, one, skip_bad, progress)))
            for one in checked
        ]

    def run(
        self,
        path: Path,
        *,
        skip_bad: bool = False,
        encoding: str | None = None,
        dry_run: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ImportResult:
        """One file: checked whole, then written (unless a row is bad, or ``dry_run``)."""
        one = self._check(path, skip_bad, encoding, dry_run)
        if one.errors.count and not skip_bad and not dry_run:
            return one.result(0, 0, 0, written=False)
        return self._store(one, skip_bad, progress)

    def _check(self, path: Path, skip_bad: bool, encoding: str | None, dry_run: bool) -> _Checked:
        """Read every row of ``path`` and plan it; nothing is written."""
        with open_source(path, encoding, _is_known) as source:
            names, ignored = _header_names(source.header)
            layout = _layout(names)
            _check_columns(names, layout)
            errors = _Errors()
            planned: list[Any] = []
            rows = 0
            seen: Counter[bytes] = Counter()
            plans: dict[str, Callable[[int, dict[str, str]], Any]] = {
                "export": self._plan_export,
                "minimal": lambda line, row: self._plan_minimal(line, row, seen),
                "calls": self._plan_call,
                "referrals": self._plan_referral,
            }
            plan = plans[layout]
            # A workbook's text cells are text: the export wrote no quote to take away.
            self._raw_cells = source.kind == "xlsx"
            for item in _records(source.rows, names):
                rows += 1
                if isinstance(item, BadRow):
                    errors.add(item)
                    continue
                line, row = item
                try:
                    planned.append(plan(line, row))
                except InvalidInput as exc:
                    errors.add(BadRow(line, tuple(exc.errors)))
                except ValidationError as exc:
                    errors.add(BadRow(line, (exc,)))
        if rows == 0:
            raise ImportRefused("import_no_rows", path=path.name)
        if layout == "export":
            self._numbers.update(p.key for p in planned)
        elif layout == "calls":
            planned = self._with_their_reports(planned, errors)
        elif layout == "referrals" and (skip_bad or not errors.count):
            # Kept for the reports file of the same import, which replays them.
            for report_number, step in planned:
                self._referrals.setdefault(report_number, []).append(step)
        return _Checked(
            path, layout, rows, planned, errors, ignored, dry_run,
            sha256=None if dry_run else file_sha256(path),
        )  # fmt: skip

    def _store(
        self, one: _Checked, skip_bad: bool, progress: Callable[[int], None] | None
    ) -> ImportResult:
        """Write a checked file's rows (a dry run only counts what it would add)."""
        planned, layout = one.planned, one.layout
        if layout == "referrals":
            return one.result(len(planned), 0, 0, written=not one.dry_run)
        if one.dry_run:
            already = self._already(planned, layout)
            return one.result(
                len(planned) - already, already, self._would_archive(planned), written=False
            )
        assert one.sha256 is not None
        imported = ImportedBy(
            operator=self.operator, at=self.clock(), file=str(one.path.resolve()), sha256=one.sha256
        )
        late: list[BadRow] = []
        archived = 0
        if layout == "calls":
            added, already = self._write_calls(planned, imported)
        else:
            planned.sort(key=lambda p: (p.report.created_at, p.line))
            added, already, archived, late = self._write(
                planned, imported, progress, skip_bad=skip_bad
            )
        audit.record(
            self.db,
            operator=self.operator,
            action=audit.Action.IMPORTED,
            subject=one.path.name[:120],
            details={
                "file": imported.file, "sha256": imported.sha256, "layout": layout,
                "rows": one.rows, "added": added, "already": already, "archived": archived,
                "bad": one.errors.count + len(late),
            },
            clock=self.clock,
        )  # fmt: skip
        return one.result(added, already, archived, written=True, late=late)

    # Rows of the minimal layout -------------------------------------------------------------

    def _plan_minimal(self, line: int, row: dict[str, str], seen: Counter[bytes]) -> _Planned:
        errors: list[ValidationError] = []
        moment = collect(errors, lambda: self._recorded(row["date"], row.get("time", "")))
        category = collect(errors, lambda: self._category(row["category"]))
        status = collect(errors, lambda: _status(row["status"]))
        agencies: tuple[str, ...] = ()
        if row.get("agency", "").strip():
            agencies = collect(errors, lambda: self._agencies(row["agency"])) or ()
        data = NewReport(
            category=category.code if category else "",
            kelurahan=row["kelurahan"],
            description=row["description"],
            address=row.get("address", ""),
            phone=row.get("phone") or None,
            caller_name=row.get("caller_name") or None,
        )
        try:
            self._service.validate_new_report(data)
        except InvalidInput as exc:
            errors.extend(e for e in exc.errors if e.field != "category" or category is not None)
        if errors:
            raise InvalidInput(errors)
        assert moment is not None and category is not None and status is not None
        if status == Status.MENUNGGU and agencies:
            raise InvalidInput([ValidationError("status", "import_waiting_with_agency")])
        parts = [
            moment.isoformat(), category.code, data.kelurahan.strip().lower(),
            data.description.strip(), status.value, data.address.strip(), ",".join(agencies),
        ]  # fmt: skip
        if data.phone or data.caller_name:  # so older imports' keys stay as they were
            parts += [(data.phone or "").strip(), (data.caller_name or "").strip()]
        content = "\x1f".join(parts)
        digest = hashlib.sha256(content.encode()).digest()
        seen[digest] += 1
        key = hashlib.sha256(f"{content}\x1e{seen[digest]}".encode()).hexdigest()
        if status == Status.DITANGANI and not agencies:
            # Handled, says the sheet, but not by whom: an agency not named, not a guess.
            agencies = (NOT_NAMED_AGENCY,)
        report = replace(
            data, created_at=moment, import_key=key, with_call=False, archived=self._archive(moment)
        )
        return _Planned(
            line=line,
            key=key,
            report=report,
            operator=self.operator,
            status=status,
            steps=tuple(_Step(agency, None) for agency in agencies),
            closed_at=None,
            forward_known=False,
            ack_known=False,
        )

    def _cells(self, raw: dict[str, str]) -> dict[str, str]:
        if self._raw_cells:
            return raw
        return {name: _unneutralise(value) for name, value in raw.items()}

    def _recorded(self, day_text: str, time_text: str) -> datetime:
        moment, _ = parse_moment("date", day_text, time_text)
        if moment > self.clock():
            raise ValidationError("date", "import_future_date", value=day_text)
        return moment

    def _archive(self, moment: datetime, flag: str | None = None) -> bool:
        if self.history:
            return True
        if flag is not None and flag.strip():
            return flag.strip().lower() in ("1", "true", "ya", "yes")
        return moment < self._cutoff

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
        known = {a.code for a in self.catalogue.agencies} | {NOT_NAMED_AGENCY}
        for part in text.split(","):
            code = part.strip().lower()
            if not code:
                continue
            if code not in known:
                raise ValidationError("agency", "agency_unknown", value=part.strip())
            codes.append(code)
        return tuple(codes)

    # Rows of the export's layout ---------------------------------------------------------------

    def _plan_export(self, line: int, raw: dict[str, str]) -> _Planned:
        row = self._cells(raw)
        errors: list[ValidationError] = []
        number = row["number"].strip()
        if not _is_number(number):
            errors.append(ValidationError("number", "import_bad_number", value=number))
        moments: dict[str, datetime | None] = {}
        for name in TIMESTAMP_COLUMNS:
            moments[name] = collect(errors, partial(_row_timestamp, row, name))
        status = collect(errors, lambda: _status(row["status"]))
        agencies = (
            collect(
                errors,
                lambda: self._agencies(row.get("agencies", "").replace(AGENCY_SEPARATOR, ",")),
            )
            or ()
        )
        phone = None
        if "caller_phone" in row:
            phone = collect(errors, lambda: normalize_phone(row["caller_phone"]))
        duplicate_of = row.get("duplicate_of", "").strip() or None
        if duplicate_of and not _is_number(duplicate_of):
            errors.append(ValidationError("duplicate_of", "import_bad_number", value=duplicate_of))
        priority = collect(errors, lambda: _priority(row.get("priority", "")))
        created_at = moments["created_at"]
        data = NewReport(
            category=row["category"].strip(),
            kelurahan=row["kelurahan_code"],
            description=row["description"],
            address=row.get("address", ""),
            phone=None,
            caller_name=row.get("caller_name") or None,
            answered_at=moments["answered_at"],
            priority=priority,
            created_at=created_at,
            import_key=number,
            with_call=False,  # the calls come from the calls file, as they were
        )
        try:
            self._service.validate_new_report(data)
        except InvalidInput as exc:
            errors.extend(exc.errors)
        steps = self._referrals.get(number)
        if steps is None:
            steps = [_Step(agency, moments["forwarded_at"]) for agency in agencies]
            if steps and moments["acknowledged_at"]:
                steps[0] = replace(steps[0], acknowledged_at=moments["acknowledged_at"])
        if status is not None and not errors:
            errors.extend(_lifecycle_problems(status, bool(steps), moments, duplicate_of))
        if created_at is not None and created_at > self.clock():
            errors.append(
                ValidationError("created_at", "import_future_date", value=row["created_at"])
            )
        if errors:
            raise InvalidInput(errors)
        assert created_at is not None and status is not None
        archived = self._archive(created_at, row.get("archived"))
        return _Planned(
            line=line,
            key=number,
            report=replace(data, phone=phone, archived=archived),
            operator=row.get("operator", "").strip() or self.operator,
            status=status,
            steps=tuple(steps),
            closed_at=moments["closed_at"],
            forward_known=moments["forwarded_at"] is not None,
            ack_known=moments["acknowledged_at"] is not None,
            duplicate_of=duplicate_of,
            number=number,
        )

    # Rows of the referrals and calls files ---------------------------------------------------

    def _plan_referral(self, line: int, raw: dict[str, str]) -> tuple[str, _Step]:
        row = self._cells(raw)
        errors: list[ValidationError] = []
        number = row["report_number"].strip()
        if not _is_number(number):
            errors.append(ValidationError("report_number", "import_bad_number", value=number))
        agency = collect(errors, lambda: self._agencies(row["agency"]))
        forwarded = collect(
            errors, lambda: _timestamp("forwarded_at", row["forwarded_at"], required=True)
        )
        acknowledged = collect(
            errors,
            lambda: _timestamp("acknowledged_at", row.get("acknowledged_at", ""), required=False),
        )
        channel = (row.get("channel") or Channel.TELEPON).strip().lower()
        if channel not in {c.value for c in Channel}:
            errors.append(
                ValidationError(
                    "channel",
                    "choice_unknown",
                    value=channel,
                    allowed=", ".join(c.value for c in Channel),
                )
            )
        if errors:
            raise InvalidInput(errors)
        if not agency or len(agency) != 1:
            raise ValidationError("agency", "agency_unknown", value=row["agency"])
        return number, _Step(
            agency=agency[0],
            forwarded_at=forwarded,
            forwarded_by=row.get("forwarded_by", "").strip() or None,
            channel=channel,
            agency_ref=row.get("agency_ref", "").strip() or None,
            acknowledged_at=acknowledged,
            acknowledged_by=row.get("acknowledged_by", "").strip() or None,
        )

    def _plan_call(self, line: int, raw: dict[str, str]) -> _PlannedCall:
        row = self._cells(raw)
        errors: list[ValidationError] = []
        answered = collect(
            errors, lambda: _timestamp("answered_at", row["answered_at"], required=True)
        )
        disposition = (row["disposition"] or "").strip().lower()
        if disposition not in {d.value for d in Disposition}:
            errors.append(
                ValidationError(
                    "disposition", "choice_unknown", value=row["disposition"],
                    allowed=", ".join(d.value for d in Disposition),
                )
            )  # fmt: skip
        phone = None
        if row.get("caller_phone", "").strip():
            phone = collect(errors, lambda: normalize_phone(row["caller_phone"]))
        number = row.get("report_number", "").strip() or None
        if number and not _is_number(number):
            errors.append(ValidationError("report_number", "import_bad_number", value=number))
        if answered is not None and answered > self.clock():
            errors.append(
                ValidationError("answered_at", "import_future_date", value=row["answered_at"])
            )
        if errors:
            raise InvalidInput(errors)
        assert answered is not None
        return _PlannedCall(
            line,
            answered,
            disposition,
            row.get("operator", "").strip() or self.operator,
            phone,
            number,
        )

    def _with_their_reports(
        self, planned: list[_PlannedCall], errors: _Errors
    ) -> list[_PlannedCall]:
        """The calls whose report is here or in this import's reports; each other one is a
        bad row, found before any call is written."""
        asked = {c.report_number for c in planned if c.report_number} - self._numbers
        with self.db.read() as conn:
            missing = {number for number in asked if _report_id(conn, number) is None}
        kept = []
        for call in planned:
            if call.report_number in missing:
                problem = ValidationError(
                    "report_number", "import_report_missing", value=call.report_number
                )
                errors.add(BadRow(call.line, (problem,)))
            else:
                kept.append(call)
        return kept

    # Writing ---------------------------------------------------------------------------------

    def _already(self, planned: list[Any], layout: str) -> int:
        if layout == "calls":
            with self.db.read() as conn:
                return sum(
                    1
                    for call in planned
                    if _call_present(conn, call, _report_id(conn, call.report_number))
                )
        with self.db.read() as conn:
            present: set[str] = set()
            for start in range(0, len(planned), CHUNK):
                present |= _present_keys(conn, [p.key for p in planned[start : start + CHUNK]])
        return sum(1 for p in planned if p.key in present)

    def _would_archive(self, planned: list[Any]) -> int:
        return sum(1 for p in planned if isinstance(p, _Planned) and p.report.archived)

    def _write(
        self,
        planned: list[_Planned],
        imported: ImportedBy,
        progress: Callable[[int], None] | None,
        *,
        skip_bad: bool,
    ) -> tuple[int, int, int, list[BadRow]]:
        """Write the planned rows in chunks; a row the service refuses now (the database
        changed since the check) ends the import at that chunk, or with ``skip_bad`` is
        listed and left out."""
        added = already = archived = 0
        late: list[BadRow] = []
        new_ids: dict[str, int] = {}  # source number -> id here, for duplicates
        note = f"Diimpor dari {Path(imported.file).name}"
        for start in range(0, len(planned), CHUNK):
            chunk = planned[start : start + CHUNK]
            with _saved_so_far(added, len(planned)), self.db.write() as conn:
                present = _present_keys(conn, [p.key for p in chunk])
                joined = JoinedDatabase(self.db, conn)
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
                    archived += plan.report.archived
            if progress:
                progress(len(chunk))
        return added, already, archived, late

    def _file(
        self, db: Database, plan: _Planned, note: str, new_ids: dict[str, int], imported: ImportedBy
    ) -> int:
        """File one report and replay what happened to it, each step at its own time
        (its audit entries: now, by whoever runs the import)."""
        created = plan.report.created_at or self.clock()
        moment = SteppedClock(created)

        def service(operator: str | None = None) -> ReportService:
            return ReportService(
                db,
                operator=operator or plan.operator,
                clock=moment,
                catalogue=self.catalogue,
                history=True,
                imported=imported,
            )

        report_id = service().create_report(plan.report).id
        # Forwards and acknowledgements in the order they happened.
        events: list[tuple[datetime, int, int]] = []
        for index, step in enumerate(plan.steps):
            events.append((step.forwarded_at or created, 0, index))
            if step.acknowledged_at is not None:
                events.append((max(step.acknowledged_at, step.forwarded_at or created), 1, index))
        referrals: dict[int, int] = {}
        for at, what, index in sorted(events):
            step = plan.steps[index]
            moment.now = at
            if what == 0:
                referrals[index] = service(step.forwarded_by).forward(
                    report_id, step.agency, channel=step.channel, agency_ref=step.agency_ref,
                    when_unknown=not plan.forward_known or step.forwarded_at is None,
                )  # fmt: skip
            else:
                service().acknowledge(
                    report_id, referrals[index], acknowledged_by=step.acknowledged_by,
                    when_unknown=not plan.ack_known,
                )  # fmt: skip
        if plan.status == Status.SELESAI:
            unknown = plan.closed_at is None
            moment.now = plan.closed_at or max([created, *(at for at, _, _ in events)])
            original = new_ids.get(plan.duplicate_of or "") or _existing(db, plan.duplicate_of)
            if original is not None:
                service().mark_duplicate(report_id, original, when_unknown=unknown)
            else:
                service().change_status(report_id, Status.SELESAI, note=note, when_unknown=unknown)
        return report_id

    def _write_calls(self, planned: list[_PlannedCall], imported: ImportedBy) -> tuple[int, int]:
        """Add the calls not yet here; a laporan call joins its report (with its event)."""
        added = already = 0
        occurrences: Counter[tuple[Any, ...]] = Counter()
        for start in range(0, len(planned), CHUNK):
            with _saved_so_far(added, len(planned)), self.db.write() as conn:
                joined = JoinedDatabase(self.db, conn)
                bare: list[tuple[str, int]] = []  # calls without a report event
                for call in planned[start : start + CHUNK]:
                    report_id = _report_id(conn, call.report_number)
                    if call.report_number and report_id is None:
                        raise ImportRefused(
                            "import_row_refused", line=call.line,
                            reason=ValidationError("report_number", "import_report_missing", value=call.report_number).describe(),
                        )  # fmt: skip
                    key = (call.answered_at, call.disposition, call.operator, report_id)
                    occurrences[key] += 1
                    if _call_count(conn, call, report_id) >= occurrences[key]:
                        already += 1
                        continue
                    if report_id is not None and call.disposition == Disposition.LAPORAN:
                        service = ReportService(
                            joined,
                            operator=call.operator,
                            clock=SteppedClock(call.answered_at),
                            catalogue=self.catalogue,
                            imported=imported,
                        )
                        service.attach_call(
                            report_id, phone=call.phone, answered_at=call.answered_at
                        )
                    else:
                        call_id = insert_call(
                            conn, answered_at=call.answered_at, phone=call.phone,
                            disposition=Disposition(call.disposition), operator=call.operator,
                            report_id=report_id,
                        )  # fmt: skip
                        bare.append(("call", call_id))
                    added += 1
                # Their state in the audit log, as for calls logged at a desk.
                audit.record_rows(
                    conn, at=self.clock(), operator=self.operator, reason="import", rows=bare
                )
        return added, already


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file's bytes (recorded with the import, to match the file)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- Reading rows -------------------------------------------------------------------------


def _is_known(cell: str) -> bool:
    name = _header_name(cell)
    return name in _KNOWN


def _header_name(cell: str) -> str:
    name = cell.strip().strip("\ufeff").lower().replace(" ", "_").replace("-", "_")
    return HEADER_ALIASES.get(name, name)


def _header_names(header: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """The header's column names (trailing empty cells dropped) and the cells ignored."""
    cells = trimmed(header)
    names = [_header_name(cell) for cell in cells]
    layout = _layout(names)
    wanted = set(_columns(layout))
    ignored = tuple(
        cell.strip()
        for cell, name in zip(cells, names, strict=True)
        if name not in wanted and cell.strip()
    )
    return names, ignored


def _layout(names: list[str]) -> str:
    present = set(names)
    if "number" in present and "created_at" in present:
        return "export"
    if "report_number" in present and "forwarded_at" in present:
        return "referrals"
    if "answered_at" in present and "disposition" in present:
        return "calls"
    return "minimal"


def _columns(layout: str) -> tuple[str, ...]:
    return {
        "export": (*EXPORT_REQUIRED, *EXPORT_OPTIONAL),
        "minimal": (*MINIMAL_REQUIRED, *MINIMAL_OPTIONAL),
        "calls": CALL_COLUMNS,
        "referrals": REFERRAL_COLUMNS,
    }[layout]


def _check_columns(names: list[str], layout: str) -> None:
    wanted = set(_columns(layout))
    used = [name for name in names if name in wanted]
    duplicated = [name for name, count in Counter(used).items() if count > 1]
    if duplicated:
        raise ImportRefused("import_column_twice", column=duplicated[0])
    required = {
        "export": EXPORT_REQUIRED, "minimal": MINIMAL_REQUIRED, "calls": CALLS_REQUIRED,
        "referrals": REFERRALS_REQUIRED,
    }[layout]  # fmt: skip
    missing = [name for name in required if name not in used]
    if missing:
        raise ImportRefused("import_column_missing", column=missing[0], layout=layout)


def _records(
    rows: Iterator[Row | RowProblem], names: list[str]
) -> Iterator[tuple[int, dict[str, str]] | BadRow]:
    """Each non-empty row as a dict by column name (the known ones), or a BadRow."""
    width = len(names)
    for item in rows:
        if isinstance(item, RowProblem):
            yield BadRow(item.line, (ValidationError("row", item.key),))
            continue
        line, cells = item
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > width:
            if any(cell.strip() for cell in cells[width:]):
                found = len(trimmed(cells))
                yield BadRow(
                    line,
                    (
                        ValidationError(
                            "row", "import_wrong_cell_count", found=found, expected=width
                        ),
                    ),
                )
                continue
            cells = cells[:width]
        elif len(cells) < width:
            yield BadRow(
                line,
                (
                    ValidationError(
                        "row", "import_wrong_cell_count", found=len(cells), expected=width
                    ),
                ),
            )
            continue
        row: dict[str, str] = {}
        for name, cell in zip(names, cells, strict=True):
            row.setdefault(name, cell)
        yield line, row


def _unneutralise(value: str) -> str:
    """Remove the quote the export put before a dangerous first character."""
    if (
        value.startswith(NEUTRALISER)
        and value[1:2]
        and value[1:].lstrip(" ").startswith(DANGEROUS_LEADS)
    ):
        return value[1:]
    return value


# --- Helpers ----------------------------------------------------------------------------------


def _naming(path: Path, several: bool, work: Callable[[], _T]) -> _T:
    """``work()``; of several files, a refusal of one names it."""
    try:
        return work()
    except ImportRefused as exc:
        if not several or exc.key == "import_in_file":
            raise
        raise ImportRefused("import_in_file", path=path.name, reason=exc) from exc


@contextmanager
def _saved_so_far(saved: int, total: int) -> Iterator[None]:
    """A chunk that fails on the storage (a full disk) after earlier chunks committed:
    say how many were saved, so nobody believes the file was not imported at all (the
    same import run again adds only the rest)."""
    try:
        yield
    except StorageError as exc:
        if not saved:
            raise
        raise ImportRefused(
            "import_partly_saved", saved=saved, total=total, reason=exc.message()
        ) from exc


def _present_keys(conn: Connection, keys: list[str]) -> set[str]:
    found = conn.execute(sa.select(REPORT.c.import_key).where(REPORT.c.import_key.in_(keys)))
    return {str(key) for (key,) in found}


def _report_id(conn: Connection, number: str | None) -> int | None:
    """A report here by its source number (imported) or its own number."""
    if not number:
        return None
    found = conn.execute(
        sa.select(REPORT.c.id)
        .where(
            sa.or_(
                REPORT.c.import_key == number, REPORT.c.number == normalise_report_number(number)
            )
        )
        .order_by(REPORT.c.import_key.is_(None))
    ).first()
    return int(found[0]) if found else None


def _existing(db: Database, number: str | None) -> int | None:
    with db.read() as conn:
        return _report_id(conn, number)


def _call_count(conn: Connection, call: _PlannedCall, report_id: int | None) -> int:
    """Calls here with the same moment, disposition, operator and report."""
    report = CALL.c.report_id.is_(None) if report_id is None else CALL.c.report_id == report_id
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(CALL)
            .where(
                CALL.c.answered_at >= call.answered_at,
                CALL.c.answered_at < call.answered_at + timedelta(seconds=1),
                CALL.c.disposition == call.disposition,
                CALL.c.operator == call.operator,
                report,
            )
        ).scalar_one()
    )


def _call_present(conn: Connection, call: _PlannedCall, report_id: int | None) -> bool:
    return _call_count(conn, call, report_id) > 0


def _as_row_error(exc: SiagaError) -> ValidationError:
    if isinstance(exc, ValidationError):
        return exc
    if isinstance(exc, InvalidInput) and exc.errors:
        return exc.errors[0]
    params = {k: v for k, v in exc.params.items() if k != "field"}
    return ValidationError("row", exc.key, **params)


def _is_number(text: str) -> bool:
    parts = text.split("-")
    return (
        len(parts) == 3
        and parts[0] == "112"
        and len(parts[1]) == 4
        and len(parts[2]) == 6
        and all(p.isdigit() for p in parts)
    )


def _row_timestamp(row: Mapping[str, str], name: str) -> datetime | None:
    return _timestamp(name, row.get(name, ""), required=name == "created_at")


def _timestamp(name: str, text: str, *, required: bool) -> datetime | None:
    value = (text or "").strip()
    if not value:
        if required:
            raise ValidationError(name, "import_value_required")
        return None
    try:
        moment, _ = parse_moment(name, value)
    except ValidationError:
        raise ValidationError(name, "import_bad_timestamp", value=value) from None
    return moment


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
    status: Status, forwarded: bool, moments: dict[str, datetime | None], duplicate_of: str | None
) -> list[ValidationError]:
    """What in an export row's lifecycle cannot be replayed by the service's rules."""
    problems: list[ValidationError] = []
    if status == Status.DITANGANI and not forwarded:
        problems.append(ValidationError("agencies", "import_handled_needs_agency"))
    if status == Status.MENUNGGU and forwarded:
        problems.append(ValidationError("status", "import_waiting_with_agency"))
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
