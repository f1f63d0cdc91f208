"""The demo data: the city's 2019 figures exactly, the services' invariants, determinism."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from siaga_tui.core.catalogue import load_catalogue
from siaga_tui.core.db import Database, open_database
from siaga_tui.core.errors import SiagaError
from siaga_tui.core.models import (
    CALL,
    EVENT,
    NUMBER_SEQUENCE,
    OPERATOR,
    REFERRAL,
    REPORT,
    Status,
    queue_rank,
)
from siaga_tui.core.phones import format_phone, normalize_phone
from siaga_tui.core.timeutil import as_utc, fixed_clock, to_local
from siaga_tui.services.demo import build_demo, ensure_demo_data
from siaga_tui.services.events import replay
from siaga_tui.services.reports import NewReport, ReportService
from siaga_tui.services.stats import Period, compute_statistics
from tests.conftest import FROZEN_NOW

CLOCK = fixed_clock(FROZEN_NOW)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One demo database for the read-only checks of this module."""
    database = open_database(tmp_path_factory.mktemp("demo") / "demo.db")
    build_demo(database, seed=7, clock=CLOCK)
    yield database
    database.dispose()


def _figures(db: Database) -> dict[str, object]:
    stats = compute_statistics(db, Period.year(2019))
    emergency, other = stats.kinds
    return {
        "total": stats.total,
        "kinds": [(k.kind, k.count, k.share.percent) for k in stats.kinds],
        "top_emergency": [(c.code, c.count) for c in emergency.categories[:2]],
        "top_other": [(c.code, c.count, c.share.percent) for c in other.categories[:2]],
        "statuses": [(s.status, s.count, s.share.percent) for s in stats.statuses],
        "rest_below_top": all(
            c.count < emergency.categories[1].count for c in emergency.categories[2:]
        )
        and all(c.count < other.categories[1].count for c in other.categories[2:]),
    }


CITY_2019 = {
    "total": 1132,
    "kinds": [("darurat", 842, 74), ("non_darurat", 290, 26)],
    "top_emergency": [("ketertiban", 137), ("kebakaran", 123)],
    "top_other": [("kelistrikan", 140, 48), ("air-bersih", 62, 21)],
    "statuses": [("selesai", 577, 51), ("ditangani", 385, 34), ("menunggu", 170, 15)],
    "rest_below_top": True,
}


def test_2019_reproduces_the_city_figures_exactly(demo_db: Database) -> None:
    assert _figures(demo_db) == CITY_2019


def test_2019_figures_on_both_engines_and_any_seed(any_db: Database) -> None:
    build_demo(any_db, seed=2024, clock=CLOCK)
    assert _figures(any_db) == CITY_2019
    # The next report filed takes the next free number on this engine too.
    saved = ReportService(any_db, operator="budi", clock=CLOCK).create_report(
        NewReport(category="sampah", kelurahan="Paal 4", description="uji")
    )
    with any_db.read() as conn:
        seqs = conn.execute(sa.select(REPORT.c.seq).where(REPORT.c.year == 2026)).scalars().all()
    assert saved.number == f"112-2026-{max(seqs):06d}" and len(set(seqs)) == len(seqs)


def test_duplicates_are_in_the_data_but_counted_once(demo_db: Database) -> None:
    stats = compute_statistics(demo_db, Period.year(2019))
    assert stats.duplicates == 12
    with demo_db.read() as conn:
        filed = conn.execute(
            sa.select(sa.func.count()).select_from(REPORT).where(REPORT.c.year == 2019)
        ).scalar_one()
    assert filed == 1132 + 12


def test_every_report_row_equals_the_replay_of_its_events(demo_db: Database) -> None:
    with demo_db.read() as conn:
        reports = conn.execute(sa.select(REPORT)).mappings().all()
        events: dict[int, list] = {}
        previous_at = None
        for row in conn.execute(sa.select(EVENT).order_by(EVENT.c.id)).mappings():
            events.setdefault(row["report_id"], []).append((row["kind"], row["at"], row["details"]))
            # Event ids are the change sequence: they run with the clock.
            assert previous_at is None or row["at"] >= previous_at
            previous_at = row["at"]
        referrals = Counter(conn.execute(sa.select(REFERRAL.c.report_id)).scalars())
        calls = Counter(
            conn.execute(sa.select(CALL.c.report_id).where(CALL.c.report_id.is_not(None))).scalars()
        )
    assert len(reports) > 1132
    for report in reports:
        own = events[report["id"]]
        state = replay(own)
        assert state.status == report["status"], report["number"]
        assert state.category == report["category"]
        assert state.duplicate_of == report["duplicate_of"]
        assert state.first_forwarded_at == report["first_forwarded_at"]
        assert state.first_acknowledged_at == report["first_acknowledged_at"]
        assert state.closed_at == report["closed_at"]
        assert state.version == report["version"] == len(own)
        assert state.referrals == referrals[report["id"]]
        assert state.calls == calls[report["id"]] >= 1
        assert as_utc(own[-1][1]) == report["updated_at"]
        assert report["queue_rank"] == queue_rank(report["kind"], report["status"])
        # The lifecycle runs forwards in time.
        moments = [
            report["call_answered_at"],
            report["created_at"],
            report["first_forwarded_at"],
            report["closed_at"],
        ]
        present = [m for m in moments if m is not None]
        assert present == sorted(present)


def test_every_event_has_its_audit_entry_and_the_chain_holds(demo_db: Database) -> None:
    from siaga_tui.services import audit
    from siaga_tui.services.audit import verify

    result = verify(demo_db)
    with demo_db.read() as conn:
        events = conn.execute(sa.select(sa.func.count()).select_from(EVENT)).scalar_one()
    assert result.ok, result.findings[:3]
    # One writer of history: an entry per event and per logged call, as at a desk, and
    # no bulk entry for rows written beside the services.
    logged = len(audit.list_entries(demo_db, action=audit.Action.CALL_LOGGED, limit=100_000))
    bulk = len(audit.list_entries(demo_db, action=audit.Action.ROWS_RECORDED, limit=100_000))
    with demo_db.read() as conn:
        bare_calls = conn.execute(
            sa.select(sa.func.count()).select_from(CALL).where(CALL.c.report_id.is_(None))
        ).scalar_one()
    assert bulk == 0 and logged == bare_calls > 0
    assert result.checked == events + logged
    with demo_db.read() as conn:
        rows = sum(
            conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (REPORT, CALL, REFERRAL)
        )
    assert result.rows_checked == rows


def test_every_forwarded_report_went_to_its_categorys_primary_agency(demo_db: Database) -> None:
    catalogue = load_catalogue()
    with demo_db.read() as conn:
        rows = conn.execute(
            sa.select(
                REPORT.c.category,
                REPORT.c.status,
                REFERRAL.c.agency,
                REFERRAL.c.forwarded_at,
                REFERRAL.c.acknowledged_at,
                REPORT.c.created_at,
            ).join(REFERRAL, REFERRAL.c.report_id == REPORT.c.id)
        ).all()
        unforwarded_done = conn.execute(
            sa.select(sa.func.count())
            .select_from(REPORT)
            .where(
                REPORT.c.status != Status.MENUNGGU,
                REPORT.c.duplicate_of.is_(None),
                REPORT.c.first_forwarded_at.is_(None),
            )
        ).scalar_one()
    assert unforwarded_done == 0
    for category, _status, agency, forwarded_at, acknowledged_at, created_at in rows:
        assert agency in catalogue.category(category).primary_agencies
        assert forwarded_at >= created_at
        assert acknowledged_at is None or acknowledged_at >= forwarded_at


def test_numbers_are_unique_and_the_sequence_knows_the_last(demo_db: Database) -> None:
    with demo_db.read() as conn:
        rows = conn.execute(
            sa.select(REPORT.c.number, REPORT.c.year, REPORT.c.seq, REPORT.c.created_at)
        ).all()
        sequence = dict(
            conn.execute(sa.select(NUMBER_SEQUENCE.c.year, NUMBER_SEQUENCE.c.last_value)).all()
        )
    assert len({r.number for r in rows}) == len(rows)
    for number, year, seq, created_at in rows:
        assert number == f"112-{year}-{seq:06d}" and to_local(created_at).year == year
    per_year = Counter(r.year for r in rows)
    assert sequence == dict(per_year.items())
    assert max(seq for _, year, seq, _ in rows if year == 2019) == 1144


def test_callers_are_synthetic_and_valid(demo_db: Database) -> None:
    with demo_db.read() as conn:
        phones = set(
            conn.execute(
                sa.select(CALL.c.caller_phone).where(CALL.c.caller_phone.is_not(None))
            ).scalars()
        )
        phones |= set(
            conn.execute(
                sa.select(REPORT.c.caller_phone).where(REPORT.c.caller_phone.is_not(None))
            ).scalars()
        )
    assert phones
    for phone in phones:
        assert re.fullmatch(r"\+628\d\d0000\d{4}", phone), phone
        assert normalize_phone(format_phone(phone)) == phone


def test_calls_are_joined_and_nuisance_calls_come_in_realistic_numbers(demo_db: Database) -> None:
    stats = compute_statistics(demo_db, Period.year(2019))
    assert stats.call_count("laporan") >= 1144
    nuisance = stats.calls_total - stats.call_count("laporan")
    # Prank and silent calls are a large share of all calls, as centers report.
    assert 0.3 < nuisance / stats.calls_total < 0.7
    assert (
        stats.call_count("iseng")
        > stats.call_count("hening")
        > stats.call_count("salah_sambung")
        > 0
    )
    with demo_db.read() as conn:
        orphan = conn.execute(
            sa.select(sa.func.count())
            .select_from(CALL)
            .where((CALL.c.disposition == "laporan") != CALL.c.report_id.is_not(None))
        ).scalar_one()
    assert orphan == 0


def test_intervals_are_minutes_for_emergencies_and_hours_for_the_rest(demo_db: Database) -> None:
    stats = compute_statistics(demo_db, Period.year(2019))
    emergency = stats.interval("saved_to_forwarded", "darurat").median
    other = stats.interval("saved_to_forwarded", "non_darurat").median
    assert emergency is not None and other is not None
    assert 30 < emergency < 15 * 60 < 30 * 60 < other
    done_emergency = stats.interval("forwarded_to_done", "darurat").median
    done_other = stats.interval("forwarded_to_done", "non_darurat").median
    assert done_emergency < 4 * 3600 < done_other


def test_rainy_months_bring_more_disasters_and_fallen_trees(demo_db: Database) -> None:
    def count(code: str, months: tuple[int, ...]) -> int:
        return sum(
            compute_statistics(demo_db, Period.between(*_month(m)), oldest_waiting=0)
            .category(code)
            .count
            for m in months
        )

    rainy, dry = (12, 1, 2), (7, 8, 9)
    assert count("bencana-alam", rainy) > 2 * count("bencana-alam", dry)
    assert count("pohon-tumbang", rainy) > count("pohon-tumbang", dry)


def _month(month: int):
    from datetime import date

    first = date(2019, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, last


def test_today_has_open_reports_of_various_ages_some_overdue(demo_db: Database) -> None:
    catalogue = load_catalogue()
    stats = compute_statistics(demo_db, Period.days(2, CLOCK), clock=CLOCK)
    assert stats.status("menunggu").count >= 3 and stats.status("ditangani").count >= 2
    assert stats.status("selesai").count >= 5
    with demo_db.read() as conn:
        waiting = conn.execute(
            sa.select(REPORT.c.category, REPORT.c.created_at).where(
                REPORT.c.status == Status.MENUNGGU, REPORT.c.year == 2026
            )
        ).all()
        latest_event = conn.execute(sa.select(sa.func.max(EVENT.c.at))).scalar_one()
    ages = [FROZEN_NOW - created for _, created in waiting]
    overdue = [
        code
        for code, created in waiting
        if FROZEN_NOW - created > catalogue.category(code).forward_target
    ]
    assert len(overdue) >= 2 and any(catalogue.category(c).is_emergency for c in overdue)
    assert min(ages) < timedelta(minutes=10) and max(ages) > timedelta(hours=1)
    assert latest_event <= FROZEN_NOW  # nothing happens in the future


def _dump(database: Database) -> list:
    with database.read() as conn:
        return [
            conn.execute(sa.select(table).order_by(table.c[key])).all()
            for table, key in (
                (REPORT, "id"),
                (CALL, "id"),
                (REFERRAL, "id"),
                (EVENT, "id"),
                (NUMBER_SEQUENCE, "year"),
                (OPERATOR, "username"),
            )
        ]


def test_same_seed_gives_the_same_database(tmp_path: Path, demo_db: Database) -> None:
    copies = []
    for name in ("a.db", "b.db"):
        database = open_database(tmp_path / name)
        try:
            build_demo(database, seed=5, clock=CLOCK)
            copies.append(_dump(database))
        finally:
            database.dispose()
    assert copies[0] == copies[1]
    assert copies[0][0] != _dump(demo_db)[0]  # another seed, other reports


def test_ensure_fills_only_an_empty_database(db: Database) -> None:
    assert ensure_demo_data(db, clock=CLOCK) is True
    with db.read() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(REPORT)).scalar_one()
    assert ensure_demo_data(db, clock=CLOCK) is False
    with pytest.raises(SiagaError) as refused:
        build_demo(db, clock=CLOCK)
    assert refused.value.key == "demo_not_empty"
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(REPORT)).scalar_one() == before


def test_the_demo_creates_no_accounts_so_nobody_is_locked_out(demo_db: Database) -> None:
    from siaga_tui.services.operators import has_accounts

    assert not has_accounts(demo_db)
    with demo_db.read() as conn:
        operators = set(conn.execute(sa.select(REPORT.c.operator).distinct()).scalars())
    assert 3 <= len(operators) <= 8


def test_a_clock_in_early_2020_adds_no_live_reports_to_2019(db: Database) -> None:
    summary = build_demo(db, clock=fixed_clock(datetime(2020, 1, 1, 3, tzinfo=UTC)))
    assert summary.live_reports == 0
    assert compute_statistics(db, Period.year(2019)).total == 1132


def test_demo_events_carry_the_same_details_as_the_services_write(
    demo_db: Database, db: Database
) -> None:
    desk = ReportService(db, operator="budi", clock=CLOCK)
    first = desk.create_report(
        NewReport(category="kebakaran", kelurahan="Paal 4", description="api")
    )
    referral = desk.forward(first.id, "damkar")
    desk.acknowledge(first.id, referral, acknowledged_by="Piket")
    desk.attach_call(first.id, phone="081200001234")
    desk.change_status(first.id, "selesai", note="padam")
    second = desk.create_report(
        NewReport(category="kebakaran", kelurahan="Paal 4", description="api")
    )
    desk.mark_duplicate(second.id, first.id)
    desk.create_report(  # history, as 2019 is filed
        NewReport(category="sampah", kelurahan="Sario", description="lama", archived=True)
    )

    def shapes(database: Database) -> dict[str, set[frozenset[str]]]:
        found: dict[str, set[frozenset[str]]] = {}
        with database.read() as conn:
            for kind, details in conn.execute(sa.select(EVENT.c.kind, EVENT.c.details)):
                found.setdefault(kind, set()).add(frozenset(details))
        return found

    service, demo = shapes(db), shapes(demo_db)
    assert set(demo) <= set(service)
    for kind, keys in demo.items():
        assert keys <= service[kind] | {k - {"status_to"} for k in service[kind]}, kind


def test_2019_is_archived_so_todays_work_is_only_today(demo_db: Database) -> None:
    """2019 is history, archived as ``import --history`` archives it: its open reports
    stay in the city's figures but wait in no queue, handover or board (they showed
    waits of years)."""
    from siaga_tui.services.board_charts import board_charts
    from siaga_tui.services.handover import shift_summary
    from siaga_tui.services.queue import QueueFilter, QueueService, backlog_cutoff

    with demo_db.read() as conn:
        archived = dict(
            conn.execute(
                sa.select(
                    REPORT.c.year, sa.func.sum(sa.case((REPORT.c.archived, 1), else_=0))
                ).group_by(REPORT.c.year)
            ).all()
        )
        live_open = conn.execute(
            sa.select(sa.func.count())
            .select_from(REPORT)
            .where(REPORT.c.year == 2026, REPORT.c.status != Status.SELESAI)
        ).scalar_one()
        created = conn.execute(
            sa.select(EVENT.c.details).where(EVENT.c.kind == "created").order_by(EVENT.c.id)
        ).scalars()
        flagged = sum(1 for details in created if details.get("archived"))
    assert archived == {2019: 1144, 2026: 0} and flagged == 1144
    day_ago = FROZEN_NOW - timedelta(days=1)
    summary = shift_summary(demo_db, Period.shift(CLOCK), clock=CLOCK)
    assert summary.open_total == live_open > 0
    assert all(item.created_at > day_ago for item in summary.open_items)
    assert summary.awaiting_ack and all(a.forwarded_at > day_ago for a in summary.awaiting_ack)
    waits = board_charts(demo_db, clock=CLOCK).agency_waits
    assert waits and all(wait.oldest > day_ago for wait in waits)
    backlog = QueueFilter(cutoff=backlog_cutoff(FROZEN_NOW, 7), backlog=True)
    assert QueueService(demo_db).open_count(backlog) == 0
    # The figures of 2019 are the city's still, archived or not.
    assert _figures(demo_db) == CITY_2019
    assert compute_statistics(demo_db, Period.year(2019)).status("menunggu").count == 170
