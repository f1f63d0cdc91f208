"""Random sequences of operations on the services keep every invariant.

Hypothesis drives ``ReportService`` and ``CallService`` with valid and invalid
arguments, stale versions, and a clock that jumps forwards and sometimes back. After
every step:

- each report's row equals the replay of its events (status, version, duplicate_of,
  first_forwarded_at, first_acknowledged_at, closed_at), and its queue rank fits;
- the queue's counts per status add up to the number of reports;
- report numbers are unique;
- intervals are sane: nothing is forwarded, acknowledged or closed before it was filed;
- an operation that was refused changed nothing at all (every table compared).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from siaga_tui.core.catalogue import load_catalogue
from siaga_tui.core.db import Database, open_database
from siaga_tui.core.errors import SiagaError
from siaga_tui.core.models import EVENT, REPORT, Status, metadata, queue_rank
from siaga_tui.services.calls import CallService
from siaga_tui.services.events import replay
from siaga_tui.services.queue import QueueFilter, QueueService
from siaga_tui.services.reports import NewReport, ReportService
from tests.conftest import FROZEN_NOW, MutableClock

CATALOGUE = load_catalogue()
CATEGORIES = [c.code for c in CATALOGUE.categories]
AGENCIES = [a.code for a in CATALOGUE.agencies]
STATUSES = [s.value for s in Status]
BOGUS_ID = 10**9

#: Mostly text that is accepted, so that reports get far along their lifecycle; some
#: that is refused (empty, only controls) and some that is hostile but accepted.
texts = st.one_of(
    st.sampled_from(
        [
            "Api sudah padam",
            "Petugas tiba",
            "Sudah ditangani PLN",
            "[/]",
            "\x1b[2J ok",
            "=cmd|' /C calc'!A0",
            "",
            "   ",
            "\u202e",
        ]
    ),
    st.text(max_size=30),
)
optional_texts = st.one_of(st.none(), texts)
phones = st.sampled_from(
    [None, "", "0812-3456-7890", "112", "+62 812 1111 2222", "0431 864444", "abc", "1" * 40]
)
kelurahan = st.sampled_from(
    ["Paal IV", "Bahu", "71.71.10.1001", "Kleak", "Ranotana", "Bunaken", "Atlantis", ""]
)
categories = st.sampled_from([*CATEGORIES, "nope"])
agencies = st.sampled_from([*AGENCIES, "nasa"])
statuses = st.sampled_from([*STATUSES, Status.SELESAI.value, "hilang"])
choices = st.integers(min_value=0, max_value=10**6)
#: The clock moves on by up to an hour, or steps back by up to an hour.
clock_steps = st.floats(min_value=-3600, max_value=3600, allow_nan=False)


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.read() as conn:
        return {
            table.name: sorted(map(tuple, conn.execute(sa.select(table)).all()), key=repr)
            for table in metadata.sorted_tables
        }


class ServiceMachine(RuleBasedStateMachine):
    template: Path

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="siaga-prop-"))
        shutil.copy(self.template, self.folder / "siaga112.db")
        self.db = open_database(self.folder / "siaga112.db")
        self.clock = MutableClock(FROZEN_NOW)
        self.reports = ReportService(
            self.db, operator="prop", clock=self.clock, catalogue=CATALOGUE
        )
        self.calls = CallService(self.db, operator="prop", clock=self.clock)
        self.queue = QueueService(self.db, catalogue=CATALOGUE)
        self.ids: list[int] = []
        self.refused = 0
        self.done = 0

    def teardown(self) -> None:
        self.db.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- Helpers ------------------------------------------------------------------

    def pick(self, choice: int) -> int:
        """One of the reports, or (one time in sixteen) an id that does not exist."""
        if not self.ids or choice % 16 == 15:
            return BOGUS_ID
        return self.ids[choice % len(self.ids)]

    def version(self, report_id: int, stale: bool) -> int | None:
        if not stale or report_id == BOGUS_ID:
            return None
        with self.db.read() as conn:
            current = conn.execute(
                sa.select(REPORT.c.version).where(REPORT.c.id == report_id)
            ).scalar_one()
        return current - 1

    def attempt(self, step: float, operation: Any) -> Any:
        """Run ``operation``; a refusal must be a SiagaError and leave every table as it was."""
        self.clock.advance(seconds=step)
        before = snapshot(self.db)
        try:
            result = operation()
        except SiagaError as error:
            error.message("en")  # every refusal can be said
            assert snapshot(self.db) == before, f"refused ({error.key}) but changed the data"
            self.refused += 1
            return None
        self.done += 1
        return result

    # --- Operations ---------------------------------------------------------------

    @initialize(count=st.integers(min_value=1, max_value=3))
    def some_reports(self, count: int) -> None:
        for n in range(count):
            self.ids.append(
                self.reports.create_report(
                    NewReport(category=CATEGORIES[n], kelurahan="Bahu", description=f"laporan {n}")
                ).id
            )

    @rule(
        step=clock_steps,
        category=st.sampled_from(CATEGORIES),
        place=st.sampled_from(["Paal IV", "Kleak"]),
        description=st.text(min_size=1, max_size=30).filter(str.strip),
        phone=phones,
    )
    def create_valid(
        self, step: float, category: str, place: str, description: str, phone: str | None
    ) -> None:
        self.create(step, category, place, "Laporan " + description, phone, None, "")

    @rule(
        step=clock_steps,
        category=categories,
        place=kelurahan,
        description=texts,
        phone=phones,
        name=optional_texts,
        address=texts,
    )
    def create(
        self,
        step: float,
        category: str,
        place: str,
        description: str,
        phone: str | None,
        name: str | None,
        address: str,
    ) -> None:
        data = NewReport(
            category=category,
            kelurahan=place,
            description=description,
            phone=phone,
            caller_name=name,
            address=address,
        )
        saved = self.attempt(step, lambda: self.reports.create_report(data))
        if saved is not None:
            self.ids.append(saved.id)

    @rule(
        step=clock_steps,
        choice=choices,
        agency=agencies,
        channel=st.sampled_from(["telepon", "radio", "merpati"]),
        ref=optional_texts,
        stale=st.booleans(),
    )
    def forward(
        self, step: float, choice: int, agency: str, channel: str, ref: str | None, stale: bool
    ) -> None:
        report_id = self.pick(choice)
        expected = self.version(report_id, stale)
        self.attempt(
            step,
            lambda: self.reports.forward(
                report_id, agency, channel=channel, agency_ref=ref, expected_version=expected
            ),
        )

    @rule(step=clock_steps, choice=choices, which=choices, by=optional_texts)
    def acknowledge(self, step: float, choice: int, which: int, by: str | None) -> None:
        report_id = self.pick(choice)
        referrals = (
            []
            if report_id == BOGUS_ID
            else [r.id for r in self.reports.get_report(report_id).referrals]
        )
        referral_id = referrals[which % len(referrals)] if referrals and which % 6 else BOGUS_ID
        self.attempt(
            step, lambda: self.reports.acknowledge(report_id, referral_id, acknowledged_by=by)
        )

    @rule(
        step=clock_steps, choice=choices, status=statuses, note=optional_texts, stale=st.booleans()
    )
    def change_status(
        self, step: float, choice: int, status: str, note: str | None, stale: bool
    ) -> None:
        report_id = self.pick(choice)
        expected = self.version(report_id, stale)
        self.attempt(
            step,
            lambda: self.reports.change_status(
                report_id, status, note=note, expected_version=expected
            ),
        )

    @rule(step=clock_steps, choice=choices, note=texts)
    def add_note(self, step: float, choice: int, note: str) -> None:
        report_id = self.pick(choice)
        self.attempt(step, lambda: self.reports.add_note(report_id, note))

    @rule(step=clock_steps, choice=choices, other=choices, by_number=st.booleans())
    def mark_duplicate(self, step: float, choice: int, other: int, by_number: bool) -> None:
        report_id = self.pick(choice)
        original_id = self.pick(other)
        original: int | str = original_id
        if by_number and original_id != BOGUS_ID:
            original = self.reports.get_report(original_id).number
        self.attempt(step, lambda: self.reports.mark_duplicate(report_id, original))

    @rule(step=clock_steps, choice=choices, reason=texts)
    def reopen(self, step: float, choice: int, reason: str) -> None:
        report_id = self.pick(choice)
        self.attempt(step, lambda: self.reports.reopen(report_id, reason))

    @rule(step=clock_steps, choice=choices, phone=phones, note=optional_texts)
    def attach_call(self, step: float, choice: int, phone: str | None, note: str | None) -> None:
        report_id = self.pick(choice)
        self.attempt(step, lambda: self.reports.attach_call(report_id, phone=phone, note=note))

    @rule(
        step=clock_steps,
        disposition=st.sampled_from(
            ["iseng", "hening", "informasi", "salah_sambung", "laporan", "x"]
        ),
        phone=phones,
        note=optional_texts,
    )
    def log_call(self, step: float, disposition: str, phone: str | None, note: str | None) -> None:
        self.attempt(step, lambda: self.calls.log_call(disposition, phone=phone, note=note))

    # --- Invariants ---------------------------------------------------------------

    @invariant()
    def rows_equal_the_replay_of_their_events(self) -> None:
        with self.db.read() as conn:
            rows = conn.execute(sa.select(REPORT)).mappings().all()
            events: dict[int, list[tuple[Any, ...]]] = {}
            for report_id, kind, at, details in conn.execute(
                sa.select(EVENT.c.report_id, EVENT.c.kind, EVENT.c.at, EVENT.c.details).order_by(
                    EVENT.c.id
                )
            ):
                events.setdefault(report_id, []).append((kind, at, details))
        assert sorted(r["id"] for r in rows) == sorted(self.ids)
        for row in rows:
            state = replay(events[row["id"]])
            assert (state.status, state.version, state.duplicate_of) == (
                row["status"],
                row["version"],
                row["duplicate_of"],
            )
            assert (state.first_forwarded_at, state.first_acknowledged_at, state.closed_at) == (
                row["first_forwarded_at"],
                row["first_acknowledged_at"],
                row["closed_at"],
            )
            assert row["queue_rank"] == queue_rank(row["kind"], row["status"])
            # Intervals the statistics are built on are never negative.
            for later in ("first_forwarded_at", "first_acknowledged_at", "closed_at"):
                if row[later] is not None:
                    assert row[later] >= row["created_at"], f"{later} before created_at"
            if row["first_acknowledged_at"] is not None:
                assert row["first_acknowledged_at"] >= row["first_forwarded_at"]

    @invariant()
    def counts_add_up_and_numbers_are_unique(self) -> None:
        waiting = self.queue.open_reports(QueueFilter(status=Status.MENUNGGU), limit=1).total
        handled = self.queue.open_reports(QueueFilter(status=Status.DITANGANI), limit=1).total
        open_total = self.queue.open_reports(limit=1).total
        with self.db.read() as conn:
            closed = conn.execute(
                sa.select(sa.func.count())
                .select_from(REPORT)
                .where(REPORT.c.status == Status.SELESAI)
            ).scalar_one()
            numbers = conn.execute(sa.select(REPORT.c.number)).scalars().all()
        assert waiting + handled == open_total
        assert open_total + closed == len(self.ids) == len(numbers)
        assert len(set(numbers)) == len(numbers)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "siaga112.db"
    open_database(path).dispose()
    return path


def test_random_operations_keep_every_invariant(template: Path, figures: dict[str, Any]) -> None:
    ServiceMachine.template = template
    totals = {"refused": 0, "done": 0}

    class Counting(ServiceMachine):
        def teardown(self) -> None:
            totals["refused"] += self.refused
            totals["done"] += self.done
            super().teardown()

    run_state_machine_as_test(
        Counting,
        settings=settings(
            max_examples=20,
            stateful_step_count=20,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    figures.update(operations=totals["done"], refused=totals["refused"])
    assert totals["done"] > 0 and totals["refused"] > 0
