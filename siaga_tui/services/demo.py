"""Demonstration data: the whole of 2019 as the city reported it, and a live today.

``build_demo(db, seed=..., clock=...)`` fills an empty database so a new user can try
the console at once: 1,132 reports of 2019 with the city's figures exactly (842
emergency, 290 non-emergency; ketertiban 137, kebakaran 123, kelistrikan 140, air
bersih 62; 577 / 385 / 170 selesai / ditangani / menunggu), a dozen duplicates (which
the figures count once), the calls that were no report, and a "today" of open reports
of various ages, some overdue, relative to the clock. 2019 is archived as history (as
``import --history`` archives what it files): counted in the statistics and exports,
never in the live queue, its backlog, the handover, the alarms or the board's waits, so
today's work is the live today alone, not 555 reports open for years.

Everything is filed through the services a desk uses (``ReportService``: file,
attach a call, forward, acknowledge, close, mark a duplicate; ``CallService.log_call``),
in the order it happened, with a clock stepped to each moment and every change joined
to one transaction (``core.db.JoinedDatabase``, as an import's chunk): so the events,
the audit entries with the rows' states, the numbers and the queue ranks are the ones
the services write, by the one writer of each, and nothing is committed until all of
it is there. The operators' names are on the records only: the demo creates no
accounts, so the console stays in single-user mode (an account without a password
would lock it). The same seed and clock give the same database content. The words
(descriptions, streets, names) are in ``data/demo.toml``; every caller is invented,
with a synthetic number.
"""

from __future__ import annotations

import math
import random
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, partial
from importlib import resources
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from siaga_tui.core.catalogue import Catalogue, Category, Kelurahan, load_catalogue
from siaga_tui.core.db import Database, JoinedDatabase
from siaga_tui.core.errors import SiagaError
from siaga_tui.core.models import CALL, REPORT, Channel, Disposition, Kind, Status
from siaga_tui.core.timeutil import Clock, SteppedClock, as_utc, display_zone, system_clock
from siaga_tui.services.calls import CallService
from siaga_tui.services.reports import NewReport, ReportService

DEFAULT_SEED: Final = 112
#: How far back "today" reaches: open and closed reports of the last hours.
LIVE_HOURS: Final = 14
LIVE_REPORTS: Final = 30

# How agencies are usually reached.
_CHANNELS: Final = {
    "damkar": Channel.RADIO, "polresta": Channel.RADIO, "polda": Channel.RADIO,
    "satpol-pp": Channel.RADIO, "bpbd": Channel.TELEPON, "dinkes": Channel.TELEPON,
    "basarnas": Channel.TELEPON, "diskominfo": Channel.APLIKASI,
}  # fmt: skip
# Relative weight of each local hour (0–23) for three kinds of report.
_HOURS: Final = {
    "day": [0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 0.8, 1.2, 1.6, 1.8, 1.8, 1.7,
            1.6, 1.6, 1.6, 1.5, 1.4, 1.3, 1.2, 1.0, 0.9, 0.7, 0.5, 0.4],
    "any": [0.6, 0.5, 0.4, 0.4, 0.4, 0.6, 0.8, 1.0, 1.2, 1.3, 1.3, 1.3,
            1.3, 1.3, 1.3, 1.3, 1.3, 1.4, 1.5, 1.5, 1.4, 1.2, 1.0, 0.8],
    "night": [1.4, 1.2, 1.0, 0.7, 0.4, 0.3, 0.3, 0.4, 0.5, 0.6, 0.6, 0.7,
              0.7, 0.7, 0.8, 0.8, 0.9, 1.0, 1.2, 1.4, 1.6, 1.8, 1.8, 1.6],
}  # fmt: skip
_NIGHT_CATEGORIES: Final = frozenset({"ketertiban", "kerusuhan", "kriminalitas"})


class DemoRefused(SiagaError):
    """The demo only fills an empty database."""


@dataclass(frozen=True)
class DemoSummary:
    """What ``build_demo`` wrote."""

    reports: int
    year_reports: int
    live_reports: int
    duplicates: int
    calls: int
    events: int


@cache
def demo_words() -> dict[str, Any]:
    """``data/demo.toml``: the figures to reproduce and the words to use."""
    text = resources.files("siaga_tui").joinpath("data", "demo.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def ensure_demo_data(
    db: Database,
    *,
    seed: int = DEFAULT_SEED,
    clock: Clock = system_clock,
    writing: Callable[[], object] | None = None,
) -> bool:
    """Fill an empty database with the demo; leave one with reports alone. True if filled."""
    try:
        build_demo(db, seed=seed, clock=clock, writing=writing)
    except DemoRefused:
        return False
    return True


def build_demo(
    db: Database,
    *,
    seed: int = DEFAULT_SEED,
    clock: Clock = system_clock,
    catalogue: Catalogue | None = None,
    writing: Callable[[], object] | None = None,
) -> DemoSummary:
    """Write the demo into ``db`` (which must hold no reports and no calls).

    ``writing`` is called once the database is found empty, before the writing starts
    (a few seconds: about 5,500 changes, each through the services), to say so.
    """
    plan = _Plan(random.Random(seed), catalogue or load_catalogue(), as_utc(clock()))
    plan.year_2019()
    plan.live_today()
    with db.write() as conn:
        if _has_data(conn):
            raise DemoRefused("demo_not_empty", db=db.describe())
        if writing is not None:
            writing()
        return plan.write(JoinedDatabase(db, conn))


def _has_data(conn: Connection) -> bool:
    return any(
        conn.execute(sa.select(table.c.id).limit(1)).first() is not None for table in (REPORT, CALL)
    )


# --- Drafts ---------------------------------------------------------------------------


@dataclass
class _Forward:
    agency: str
    at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    channel: str
    referral_id: int = 0


@dataclass
class _Call:
    answered_at: datetime
    phone: str | None
    disposition: str
    operator: str
    note: str | None = None


@dataclass
class _Report:
    category: Category
    kelurahan: Kelurahan
    created_at: datetime
    answered_at: datetime
    phone: str | None
    name: str | None
    address: str
    description: str
    operator: str
    forwards: list[_Forward] = field(default_factory=list)
    extra_calls: list[_Call] = field(default_factory=list)
    closed_at: datetime | None = None
    closing_note: str | None = None
    duplicate_of: _Report | None = None
    archived: bool = False
    id: int = 0  # given when filed
    number: str = ""


class _Plan:
    """Everything the demo will write, drafted in memory, then filed through the services."""

    def __init__(self, rng: random.Random, catalogue: Catalogue, now: datetime) -> None:
        self.rng = rng
        self.catalogue = catalogue
        self.now = now.replace(microsecond=0)
        self.words = demo_words()
        self.reports: list[_Report] = []
        self.calls: list[_Call] = []
        self.live = 0
        people = self.words["people"]
        self.operators = [str(name) for name in people["operators"]]
        prefixes = people["phone_prefixes"]
        numbers = rng.sample(range(10000), 1500)
        self.phones = [
            f"+62{prefixes[i % len(prefixes)][1:]}0000{n:04d}" for i, n in enumerate(numbers)
        ]
        self.regulars = self.phones[:60]  # people who call more than once
        self.pranksters = self.phones[60:72]
        self.fresh = self.phones[72:]
        self.kelurahan_weights = [
            0.3 if k.kecamatan.code.endswith(".10") else 1.0 for k in catalogue.kelurahan
        ]

    # Choosing -------------------------------------------------------------------

    def _pick(self, options: list[Any]) -> Any:
        return options[self.rng.randrange(len(options))]

    def _lognormal(self, median: float, sigma: float, low: float, high: float) -> timedelta:
        seconds = self.rng.lognormvariate(math.log(median), sigma)
        return timedelta(seconds=round(min(high, max(low, seconds))))

    def _operator(self, moment: datetime) -> str:
        """Who was on shift: three shifts a day, rotating through the team."""
        local = moment.astimezone(display_zone())
        shift = 0 if 7 <= local.hour < 14 else 1 if 14 <= local.hour < 21 else 2
        day = local.toordinal() - (1 if local.hour < 7 else 0)
        return self.operators[(day * 3 + shift) % len(self.operators)]

    def _moment_in(self, day: date, profile: str) -> datetime:
        hour = self.rng.choices(range(24), weights=_HOURS[profile])[0]
        local = datetime.combine(day, time(hour), display_zone()) + timedelta(
            seconds=self.rng.randrange(3600)
        )
        return local.astimezone(UTC)

    def _caller(self) -> tuple[str | None, str | None]:
        roll = self.rng.random()
        phone = (
            None
            if roll < 0.08
            else self._pick(self.regulars)
            if roll < 0.25
            else self._pick(self.fresh)
        )
        name = self._pick(self.words["people"]["callers"]) if self.rng.random() < 0.65 else None
        return phone, name

    def _profile(self, category: Category) -> str:
        if category.code in _NIGHT_CATEGORIES:
            return "night"
        return "any" if category.kind == Kind.DARURAT else "day"

    # Drafting ---------------------------------------------------------------------

    def _report(self, category: Category, created_at: datetime) -> _Report:
        emergency = category.kind == Kind.DARURAT
        answer = self._lognormal(75 if emergency else 150, 0.5, 20, 900)
        places = self.words["places"]
        kelurahan = self.rng.choices(self.catalogue.kelurahan, weights=self.kelurahan_weights)[0]
        phone, name = self._caller()
        report = _Report(
            category=category,
            kelurahan=kelurahan,
            created_at=created_at,
            answered_at=created_at - answer,
            phone=phone,
            name=name,
            address=f"{self._pick(places['streets'])}, {self._pick(places['landmarks'])}",
            description=self._pick(self.words["descriptions"][category.code]),
            operator=self._operator(created_at),
        )
        self.reports.append(report)
        return report

    def _work(self, report: _Report, target: str, until: datetime | None = None) -> None:
        """Forward, acknowledge and close ``report`` as far as ``target`` (and ``until``)."""
        category = report.category
        emergency = category.kind == Kind.DARURAT
        if emergency and self.rng.random() < (0.2 if category.code == "kebakaran" else 0.05):
            at = report.created_at + timedelta(seconds=self.rng.randrange(90, 900))
            if until is None or at < until:
                phone, _ = self._caller()
                note = self._pick(self.words["notes"]["extra_call"])
                report.extra_calls.append(
                    _Call(at, phone, Disposition.LAPORAN.value, self._operator(at), note)
                )
        if target == Status.MENUNGGU:
            return
        forward_median = category.forward_target.total_seconds() * (0.6 if emergency else 0.7)
        first = report.created_at + self._lognormal(
            forward_median, 0.6 if emergency else 0.8, 20, 5 * 86400
        )
        if until is not None and first >= until:
            return
        agencies = list(category.primary_agencies[:1])
        if len(category.primary_agencies) > 1 and self.rng.random() < 0.35:
            agencies.append(category.primary_agencies[1])
        at = first
        for agency in agencies:
            ack_delay = self._lognormal(
                90 if emergency else 2400, 0.6 if emergency else 0.9, 10, 3 * 86400
            )
            acknowledged = at + ack_delay
            if self.rng.random() < (0.97 if target == Status.SELESAI else 0.75) and (
                until is None or acknowledged < until
            ):
                who = self._pick(self.words["people"]["acknowledgers"])
                by = f"{who} {self.catalogue.agency(agency).short_name}"
                report.forwards.append(_Forward(agency, at, acknowledged, by, _channel(agency)))
            else:
                report.forwards.append(_Forward(agency, at, None, None, _channel(agency)))
            at = at + self._lognormal(240 if emergency else 5400, 0.5, 30, 86400)
            if until is not None and at >= until:
                break
        if target != Status.SELESAI:
            return
        done_median = category.finish_target.total_seconds() * (0.7 if emergency else 0.6)
        closed = first + self._lognormal(done_median, 0.5 if emergency else 0.7, 300, 30 * 86400)
        latest = max(
            [f.acknowledged_at or f.at for f in report.forwards]
            + [f.at for f in report.forwards]
            + [c.answered_at for c in report.extra_calls]
        )
        closed = max(closed, latest + timedelta(seconds=60))
        if until is not None and closed >= until:
            return
        report.closed_at = closed
        report.closing_note = self._pick(self.words["notes"]["closing"])

    def year_2019(self) -> None:
        figures = self.words["year_2019"]
        year = int(figures["year"])
        season = self.words["season"]
        for code, count in figures["categories"].items():
            category = self.catalogue.category(code)
            weights = _month_weights(year, season.get(code))
            days = self.rng.choices(weights[0], weights=weights[1], k=int(count))
            for day in days:
                self._report(category, self._moment_in(day, self._profile(category)))
        # Exact statuses; emergencies a little more often done, non-emergencies waiting.
        wanted = figures["statuses"]
        pool = list(self.reports)
        for status, weight_emergency in ((Status.SELESAI, 1.6), (Status.DITANGANI, 1.0)):
            keys = [
                self.rng.random()
                ** (1 / (weight_emergency if r.category.kind == Kind.DARURAT else 1.0))
                for r in pool
            ]
            ranked = sorted(range(len(pool)), key=lambda i: keys[i], reverse=True)
            chosen = set(ranked[: int(wanted[status.value])])
            for index in sorted(chosen):
                self._work(pool[index], status.value)
            pool = [r for i, r in enumerate(pool) if i not in chosen]
        for report in pool:
            self._work(report, Status.MENUNGGU.value)
        self._duplicates(int(figures["duplicates"]), year)
        # History, as ``import --history`` files it: in the figures, in no live queue.
        for report in self.reports:
            report.archived = True
        start = datetime.combine(date(year, 1, 1), time(0), display_zone()).astimezone(UTC)
        end = datetime.combine(date(year + 1, 1, 1), time(0), display_zone()).astimezone(UTC)
        for disposition, count in figures["calls"].items():
            self._nuisance(disposition, int(count), start, end)

    def _duplicates(self, count: int, year: int) -> None:
        """Second reports of the same incident, closed as duplicates of the first."""
        last_day = datetime(year, 12, 30, tzinfo=UTC)
        candidates = [
            r for r in self.reports
            if r.category.code in ("kebakaran", "kecelakaan", "bencana-alam", "pohon-tumbang")
            and r.created_at < last_day and r.duplicate_of is None
        ]  # fmt: skip
        for original in self.rng.sample(candidates, count):
            created = original.created_at + timedelta(seconds=self.rng.randrange(180, 1800))
            duplicate = self._report(original.category, created)
            duplicate.kelurahan = original.kelurahan
            duplicate.description = original.description
            duplicate.duplicate_of = original
            duplicate.closed_at = created + timedelta(seconds=self.rng.randrange(60, 300))

    def _nuisance(self, disposition: str, count: int, start: datetime, end: datetime) -> None:
        span = int((end - start).total_seconds())
        for _ in range(count):
            at = start + timedelta(seconds=self.rng.randrange(span))
            roll = self.rng.random()
            if disposition == Disposition.ISENG:
                phone = (
                    self._pick(self.pranksters)
                    if roll < 0.35
                    else None
                    if roll < 0.5
                    else self._pick(self.fresh)
                )
            elif disposition == Disposition.HENING:
                phone = None if roll < 0.4 else self._pick(self.fresh)
            else:
                phone = None if roll < 0.1 else self._pick(self.fresh)
            note = (
                self._pick(self.words["notes"]["information"])
                if disposition == Disposition.INFORMASI
                else None
            )
            self.calls.append(_Call(at, phone, disposition, self._operator(at), note))

    def live_today(self) -> None:
        """Reports of the last hours, worked only as far as the clock allows."""
        first_allowed = datetime(int(self.words["year_2019"]["year"]) + 1, 1, 2, tzinfo=UTC)
        start = max(self.now - timedelta(hours=LIVE_HOURS), first_allowed)
        if start >= self.now - timedelta(minutes=30):
            return
        figures = self.words["year_2019"]["categories"]
        codes = list(figures)
        weights = [figures[c] for c in codes]
        span = int((self.now - start).total_seconds())
        before = len(self.reports)
        for _ in range(LIVE_REPORTS):
            category = self.catalogue.category(self.rng.choices(codes, weights=weights)[0])
            created = start + timedelta(seconds=self.rng.randrange(span - 120))
            self._work(self._report(category, created), Status.SELESAI.value, until=self.now)
        # Overdue on purpose: waiting longer than the category's forward target.
        overdue = (("kebakaran", 0.2, 3), ("kecelakaan", 0.15, 2), ("kelistrikan", 1.0, 3),
                   ("sampah", 1.0, 1.6))  # fmt: skip
        for code, hours, factor in overdue:
            category = self.catalogue.category(code)
            age = max(category.forward_target * factor, timedelta(hours=hours))
            self._report(category, self.now - age)
        # Just filed, not yet forwarded.
        for _ in range(3):
            category = self.catalogue.category(self.rng.choices(codes, weights=weights)[0])
            self._report(category, self.now - timedelta(seconds=self.rng.randrange(60, 480)))
        self.live = len(self.reports) - before
        self._nuisance(Disposition.ISENG.value, 14, start, self.now)
        self._nuisance(Disposition.HENING.value, 9, start, self.now)
        self._nuisance(Disposition.INFORMASI.value, 11, start, self.now)
        self._nuisance(Disposition.SALAH_SAMBUNG.value, 3, start, self.now)

    # Writing ----------------------------------------------------------------------

    def write(self, db: Database) -> DemoSummary:
        """File everything through the services, in the order it happened, with the
        clock stepped to each moment; ``db`` joins every change to one transaction.

        Each change is then what a desk would have written: the report or call, its
        event (``events.append_event``), its audit entry with the rows' states, the
        number from the sequence. Ids follow the order of the moments, so the event
        ids (the change sequence) run with the clock.
        """
        clock = SteppedClock(self.now)
        desks = _Desks(db, clock, self.catalogue)
        steps: list[tuple[datetime, int, int, Callable[[], object]]] = []

        def add(at: datetime, rank: int, act: Callable[[], object]) -> None:
            steps.append((at, rank, len(steps), act))

        for report in self.reports:
            add(report.created_at, 0, partial(self._file, desks, report))
            for call in report.extra_calls:
                add(call.answered_at, 1, partial(self._attach, desks, report, call))
            for forward in report.forwards:
                add(forward.at, 2, partial(self._forward, desks, report, forward))
                if forward.acknowledged_at is not None:
                    add(
                        forward.acknowledged_at,
                        3,
                        partial(self._acknowledge, desks, report, forward),
                    )
            if report.closed_at is not None:
                add(report.closed_at, 4, partial(self._close, desks, report))
        events = len(steps)
        for call in self.calls:
            add(call.answered_at, 1, partial(self._log, desks, call))
        steps.sort(key=lambda step: step[:3])
        for at, _, _, act in steps:
            clock.now = at
            act()
        calls = len(self.calls) + sum(1 + len(r.extra_calls) for r in self.reports)
        return DemoSummary(
            reports=len(self.reports),
            year_reports=len(self.reports) - self.live,
            live_reports=self.live,
            duplicates=sum(1 for r in self.reports if r.duplicate_of is not None),
            calls=calls,
            events=events,
        )

    def _file(self, desks: _Desks, report: _Report) -> None:
        saved = desks.reports(report.operator).create_report(
            NewReport(
                category=report.category.code,
                kelurahan=report.kelurahan.code,
                description=report.description,
                phone=report.phone,
                caller_name=report.name,
                address=report.address,
                answered_at=report.answered_at,
                created_at=report.created_at,
                archived=report.archived,
            )
        )
        report.id, report.number = saved.id, saved.number

    def _attach(self, desks: _Desks, report: _Report, call: _Call) -> None:
        desks.reports(call.operator).attach_call(
            report.id, phone=call.phone, answered_at=call.answered_at, note=call.note
        )

    def _forward(self, desks: _Desks, report: _Report, forward: _Forward) -> None:
        forward.referral_id = desks.reports(self._operator(forward.at)).forward(
            report.id, forward.agency, channel=forward.channel
        )

    def _acknowledge(self, desks: _Desks, report: _Report, forward: _Forward) -> None:
        assert forward.acknowledged_at is not None
        desks.reports(self._operator(forward.acknowledged_at)).acknowledge(
            report.id, forward.referral_id, acknowledged_by=forward.acknowledged_by
        )

    def _close(self, desks: _Desks, report: _Report) -> None:
        assert report.closed_at is not None
        desk = desks.reports(self._operator(report.closed_at))
        if report.duplicate_of is not None:
            desk.mark_duplicate(report.id, report.duplicate_of.id)
        else:
            desk.change_status(report.id, Status.SELESAI.value, note=report.closing_note)

    def _log(self, desks: _Desks, call: _Call) -> None:
        desks.calls(call.operator).log_call(
            call.disposition, phone=call.phone, note=call.note, answered_at=call.answered_at
        )


class _Desks:
    """The services each operator of the demo works with: one clock, one transaction."""

    def __init__(self, db: Database, clock: Clock, catalogue: Catalogue) -> None:
        self.db = db
        self.clock = clock
        self.catalogue = catalogue
        self._reports: dict[str, ReportService] = {}
        self._calls: dict[str, CallService] = {}

    def reports(self, operator: str) -> ReportService:
        if operator not in self._reports:
            self._reports[operator] = ReportService(
                self.db, operator=operator, clock=self.clock, catalogue=self.catalogue
            )
        return self._reports[operator]

    def calls(self, operator: str) -> CallService:
        if operator not in self._calls:
            self._calls[operator] = CallService(self.db, operator=operator, clock=self.clock)
        return self._calls[operator]


def _channel(agency: str) -> str:
    return _CHANNELS.get(agency, Channel.WHATSAPP).value


def _month_weights(year: int, season: list[float] | None) -> tuple[list[date], list[float]]:
    days = [
        date(year, 1, 1) + timedelta(days=i)
        for i in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)
    ]
    weights = [float(season[d.month - 1]) if season else 1.0 for d in days]
    return days, weights
