"""Fixed phone-system records for the board's snapshots and the report's workbook."""

from __future__ import annotations

from datetime import datetime, timedelta

from siaga_tui.core.db import Database
from siaga_tui.services.telephony import TelephonyService

#: (minutes before ``end``, seconds ringing, answered): five answered after 4–26 s, two
#: abandoned (the first called back and reached 6 min after it ended).
PHONE_CALLS = (
    (165, 4, True),
    (145, 8, True),
    (115, 30, False),
    (85, 12, True),
    (55, 17, True),
    (25, 26, True),
    (8, 40, False),
)


def seed_phone_calls(db: Database, end: datetime) -> None:
    """The calls of ``PHONE_CALLS`` as the phone system reported them, before ``end``."""
    phone = TelephonyService(db, operator="budi")
    for index, (minutes, ringing, answered) in enumerate(PHONE_CALLS):
        offered = end - timedelta(minutes=minutes)
        call_id = f"fixed-{index}"
        view = phone.ring(call_id, "081234567890", line="112", at=offered)
        if answered:
            phone.answer(call_id, position="pos-1", at=offered + timedelta(seconds=ringing))
            phone.hangup(call_id, at=offered + timedelta(seconds=ringing + 90))
        else:
            phone.hangup(call_id, at=offered + timedelta(seconds=ringing))
            if index == 2:
                phone.record_callback(
                    f"p{view.id}",
                    "reached",
                    at=offered + timedelta(seconds=ringing, minutes=6),
                )
