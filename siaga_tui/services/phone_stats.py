"""The phone's figures for a period, named for the standards that ask for them.

Every interval here is taken from the phone system's clock (``phone_call``: offered →
answered as the phone saw them), not from when a form was opened:

- NENA-STA-020.1: 90 % of calls answered within 15 s, 95 % within 20 s;
- NFPA 1225: answered within 10 s and processed within 60 s, each 90 % of the time
  ("processed" here: answer → report saved, with the phone's answer time).

Calls count in the period by the moment they were offered (rang). A call without the
moment a figure needs (a hook that never sent the ring, a report typed without the
phone) is left out of that figure: never counted as zero. Each figure says how many
calls it covers (``n`` / ``of``). JSON keys (``to_dict``) are stable; README: "Phone
figures".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa

from siaga_tui.core.db import Database
from siaga_tui.core.models import CALL, CALLBACK, PHONE_CALL, REPORT, CallbackOutcome, CallOutcome
from siaga_tui.services.stats import ROW_FIELDS, Period, Share, percentile

#: Answer-time thresholds, in seconds (NFPA 1225: 10; NENA-STA-020.1: 15 and 20).
ANSWER_WITHIN: Final = (10, 15, 20)
#: NFPA 1225: processed within 60 s.
PROCESS_WITHIN: Final = 60
#: (threshold seconds, share required, name): the standards' targets.
TARGETS: Final = (
    (10, 90, "nfpa_1225_answer_10s_90pct"),
    (15, 90, "nena_sta_020_answer_15s_90pct"),
    (20, 95, "nena_sta_020_answer_20s_95pct"),
)


@dataclass(frozen=True, slots=True)
class Spread:
    """Median and 90th percentile of ``n`` intervals, in seconds (None when n = 0)."""

    n: int
    median: float | None
    p90: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "median": self.median, "p90": self.p90}


@dataclass(frozen=True, slots=True)
class PhoneFigures:
    offered: int
    answered: int
    abandoned: int
    dropped: int
    in_progress: int
    answer_time: Spread
    answered_within: dict[int, Share]
    #: Abandoned of the calls that ended (answered + abandoned + dropped).
    abandoned_share: Share
    callbacks: int
    callbacks_reached: int
    #: Abandoned calls of the period with at least one call-back.
    abandoned_called_back: Share
    time_to_callback: Spread
    answer_to_saved: Spread
    saved_within: Share

    @property
    def abandoned_not_called_back(self) -> int:
        """Abandoned calls of the period still without a call-back (call-backs to make)."""
        return self.abandoned - self.abandoned_called_back.count

    @property
    def targets(self) -> dict[str, bool | None]:
        """Each standard's target met (None: no answered call with a known time)."""
        found: dict[str, bool | None] = {}
        for seconds, required, name in TARGETS:
            share = self.answered_within[seconds]
            found[name] = None if share.total == 0 else 100 * share.count >= required * share.total
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "clock": "phone system",
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "dropped": self.dropped,
            "in_progress": self.in_progress,
            "abandoned_share": _share(self.abandoned_share),
            "answer_time_seconds": self.answer_time.to_dict(),
            **{f"answered_within_{s}s": _share(self.answered_within[s]) for s in ANSWER_WITHIN},
            "targets": self.targets,
            "callbacks": {
                "made": self.callbacks,
                "reached": self.callbacks_reached,
                "abandoned_called_back": _share(self.abandoned_called_back),
                "time_to_callback_seconds": self.time_to_callback.to_dict(),
            },
            "answer_to_saved_seconds": self.answer_to_saved.to_dict(),
            f"saved_within_{PROCESS_WITHIN}s": _share(self.saved_within),
        }


def phone_rows(figures: PhoneFigures) -> list[dict[str, Any]]:
    """The figures as flat rows of ``stats.ROW_FIELDS`` (``stats --format csv``).

    Section ``phone``; the key is the JSON key's path (``answered_within_15s``,
    ``callbacks.made``, ``targets.nena_sta_020_answer_15s_90pct``), taken from
    ``to_dict`` so the two never differ. A count fills ``count``; a share ``count``,
    ``of`` and ``percent``; an interval ``count`` (calls covered), ``median_seconds``
    and ``p90_seconds``; a target ``kind`` (``met``, ``not_met``, empty: unknown) with
    its share. Unknown values are empty cells, never 0.
    """
    rows: list[dict[str, Any]] = []
    shares = {f"answered_within_{s}": figures.answered_within[s] for s in ANSWER_WITHIN}

    def add(key: str, **values: Any) -> None:
        row = dict.fromkeys(ROW_FIELDS, "")
        row.update(section="phone", key=key)
        row.update({k: v for k, v in values.items() if v is not None})
        rows.append(row)

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and "percent" in value:
            add(prefix, count=value["count"], of=value["of"], percent=value["percent"])
        elif isinstance(value, dict) and "median" in value:
            add(prefix, count=value["n"], median_seconds=value["median"], p90_seconds=value["p90"])
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else key, inner)
        elif prefix.startswith("targets."):
            seconds = next(s for s, _, name in TARGETS if f"targets.{name}" == prefix)
            share = shares[f"answered_within_{seconds}"]
            met = "" if value is None else ("met" if value else "not_met")
            add(prefix, kind=met, count=share.count, of=share.total, percent=share.percent)
        elif isinstance(value, int):
            add(prefix, count=value)

    walk("", figures.to_dict())  # "clock" (a word) is said in the README, not a row
    return rows


def _share(share: Share) -> dict[str, Any]:
    return {"count": share.count, "of": share.total, "percent": share.percent}


def _spread(values: list[float]) -> Spread:
    pairs = sorted((value, 1) for value in values)
    return Spread(len(values), percentile(pairs, 0.5), percentile(pairs, 0.9))


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    """``later - earlier`` in whole seconds; None when a moment is unknown or they invert."""
    if later is None or earlier is None:
        return None
    seconds = (later - earlier).total_seconds()
    return round(seconds, 3) if seconds >= 0 else None


def phone_mark(db: Database) -> tuple[int, int, int, int]:
    """What moves when the phone's figures may have: the newest phone call, how many
    were answered and ended, the newest call-back (the board recounts when it moves)."""
    with db.read() as conn:
        row = conn.execute(
            sa.select(
                sa.func.coalesce(sa.func.max(PHONE_CALL.c.id), 0),
                sa.func.count(PHONE_CALL.c.answered_at),
                sa.func.count(PHONE_CALL.c.ended_at),
                sa.select(sa.func.coalesce(sa.func.max(CALLBACK.c.id), 0)).scalar_subquery(),
            )
        ).one()
    return (int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def compute_phone_figures(db: Database, period: Period) -> PhoneFigures:
    """The phone's figures for calls offered in ``period``."""
    with db.read() as conn:
        calls = conn.execute(
            sa.select(
                PHONE_CALL.c.id,
                PHONE_CALL.c.offered_at,
                PHONE_CALL.c.answered_at,
                PHONE_CALL.c.ended_at,
                PHONE_CALL.c.outcome,
            ).where(
                PHONE_CALL.c.offered_at.is_not(None), *period.condition(PHONE_CALL.c.offered_at)
            )
        ).all()
        saved = conn.execute(
            sa.select(PHONE_CALL.c.answered_at, REPORT.c.created_at)
            .join(CALL, CALL.c.id == PHONE_CALL.c.logged_call_id)
            .join(REPORT, REPORT.c.id == CALL.c.report_id)
            .where(
                PHONE_CALL.c.offered_at.is_not(None),
                PHONE_CALL.c.answered_at.is_not(None),
                *period.condition(PHONE_CALL.c.offered_at),
            )
        ).all()
        ids = [row.id for row in calls]
        backs = conn.execute(
            sa.select(CALLBACK.c.phone_call_id, CALLBACK.c.at, CALLBACK.c.outcome)
            .where(CALLBACK.c.phone_call_id.in_(ids) if ids else sa.false())
            .order_by(CALLBACK.c.at)
        ).all()
        other_backs = conn.execute(
            sa.select(CALLBACK.c.outcome).where(
                CALLBACK.c.phone_call_id.is_(None), *period.condition(CALLBACK.c.at)
            )
        ).all()
    outcomes = [row.outcome for row in calls]
    answered = outcomes.count(CallOutcome.ANSWERED.value)
    abandoned = outcomes.count(CallOutcome.ABANDONED.value)
    dropped = outcomes.count(CallOutcome.DROPPED.value)
    waits = [w for row in calls if (w := _seconds(row.answered_at, row.offered_at)) is not None]
    within = {s: Share(sum(1 for w in waits if w <= s), len(waits)) for s in ANSWER_WITHIN}
    ended_at = {row.id: row.ended_at for row in calls if row.outcome == CallOutcome.ABANDONED.value}
    first_back: dict[int, datetime] = {}
    for back in backs:
        first_back.setdefault(back.phone_call_id, back.at)
    to_callback = [
        s
        for call_id, at in first_back.items()
        if call_id in ended_at and (s := _seconds(at, ended_at[call_id])) is not None
    ]
    processing = [
        s for row in saved if (s := _seconds(row.created_at, row.answered_at)) is not None
    ]
    all_backs = [b.outcome for b in backs] + [b.outcome for b in other_backs]
    return PhoneFigures(
        offered=len(calls),
        answered=answered,
        abandoned=abandoned,
        dropped=dropped,
        in_progress=sum(1 for o in outcomes if o is None),
        answer_time=_spread(waits),
        answered_within=within,
        abandoned_share=Share(abandoned, answered + abandoned + dropped),
        callbacks=len(all_backs),
        callbacks_reached=all_backs.count(CallbackOutcome.REACHED.value),
        abandoned_called_back=Share(sum(1 for c in first_back if c in ended_at), abandoned),
        time_to_callback=_spread(to_callback),
        answer_to_saved=_spread(processing),
        saved_within=Share(sum(1 for s in processing if s <= PROCESS_WITHIN), len(processing)),
    )
