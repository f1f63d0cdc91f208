"""The generated history's span, apart from the generator.

The console child reads ``SPAN_END`` to place the backlog line; importing it from
``benchmarks.data`` there loaded the catalogue, the models and the report service into
the console's start (B1), which the baseline never pays and ``siaga112 tui`` never does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

#: Ten years of reports, in UTC seconds: 1 Jan 2017 to 1 Nov 2026 (WITA midnight).
SPAN_START: Final = int(datetime(2016, 12, 31, 16, 0, tzinfo=UTC).timestamp())
SPAN_END: Final = int(datetime(2026, 10, 31, 16, 0, tzinfo=UTC).timestamp())
