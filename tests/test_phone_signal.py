"""Other positions learn of a ringing call: the live watch's mark moves (LISTEN/NOTIFY on PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Hashable

from siaga_tui.core.db import Database, open_database
from siaga_tui.services.phone_signal import PhoneChangeSignal
from siaga_tui.services.telephony import TelephonyService

#: Generous: only a mark that never moves waits this long.
BOUND = 10.0


def moved(signal: PhoneChangeSignal, before: Hashable) -> Hashable:
    """The next mark other than ``before``: a NOTIFY reaches the listener's connection a
    moment after the commit (the live watch reads again a fifth of a second later)."""
    deadline = time.monotonic() + BOUND
    mark = signal.read()
    while mark == before and time.monotonic() < deadline:
        time.sleep(0.01)
        mark = signal.read()
    return mark


def test_a_ring_answer_and_hangup_each_move_the_mark(any_db: Database, any_db_url: str) -> None:
    other = open_database(any_db_url)
    signal = PhoneChangeSignal(other)
    try:
        phone = TelephonyService(any_db, operator="pbx")
        marks = [signal.read()]
        assert signal.read() == marks[0]  # nothing happened: the mark stays
        phone.ring("n-1", "081234567890")
        marks.append(moved(signal, marks[-1]))
        phone.answer("n-1")
        marks.append(moved(signal, marks[-1]))
        phone.hangup("n-1")
        marks.append(moved(signal, marks[-1]))
        assert len(set(marks)) == 4
        assert signal.read() == marks[-1]
    finally:
        signal.close()
        other.dispose()
