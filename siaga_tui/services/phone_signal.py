"""The live watch's mark with the phone in it: on PostgreSQL, LISTEN/NOTIFY.

On SQLite ``PRAGMA data_version`` already moves with every commit, phone calls
included. On PostgreSQL the queue's mark (the newest event and call ids) does not see a
call ringing, so this signal also listens on ``siaga112_phone`` (every telephony write
sends ``NOTIFY``, ``services/telephony.py``): each read takes the notifications that
arrived since the last one without waiting, on a connection of its own, and the mark
moves with them. The live watch reads a few times a second, so a call ringing at
another position shows within its interval.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable
from typing import Any

import sqlalchemy as sa

from siaga_tui.core.db import Database, translate_storage_errors
from siaga_tui.services.queue import ChangeSignal
from siaga_tui.services.telephony import NOTIFY_CHANNEL


class PhoneChangeSignal:
    """``ChangeSignal``'s mark, and on PostgreSQL the count of phone notifications seen."""

    def __init__(self, db: Database, inner: ChangeSignal | None = None) -> None:
        self.db = db
        self.inner = inner or ChangeSignal(db)
        self._listener: Any = None
        self._seen = 0

    def read(self) -> Hashable:
        mark = self.inner.read()
        if self.db.path is not None:
            return mark
        return (mark, self._notifications())

    def _notifications(self) -> int:
        import psycopg

        with translate_storage_errors():
            try:
                if self._listener is None:
                    url = sa.make_url(self.db.url).set(drivername="postgresql")
                    self._listener = psycopg.connect(
                        url.render_as_string(hide_password=False), autocommit=True
                    )
                    self._listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
                for _ in self._listener.notifies(timeout=0):
                    self._seen += 1
            except psycopg.Error as exc:
                self._close_listener()
                raise sa.exc.OperationalError("LISTEN", None, exc) from exc
        return self._seen

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                listener.close()

    def close(self) -> None:
        self.inner.close()
        self._close_listener()
