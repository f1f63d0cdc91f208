"""Ages as the queue shows them, and when that text next changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siaga_tui.core.timeutil import age_changes_in, age_step, format_age

MICROSECOND = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("age", "shown", "changes_in", "step"),
    [
        (timedelta(seconds=0), "0s", timedelta(seconds=1), 1),
        (timedelta(seconds=45.25), "45s", timedelta(seconds=0.75), 1),
        (timedelta(seconds=59), "59s", timedelta(seconds=1), 1),
        (timedelta(seconds=60), "1m", timedelta(seconds=60), 60),
        (timedelta(minutes=12, seconds=10), "12m", timedelta(seconds=50), 60),
        (timedelta(hours=3, minutes=5, seconds=30), "3h05m", timedelta(seconds=30), 60),
        (timedelta(days=2, hours=4, minutes=20), "2d04h", timedelta(minutes=40), 3600),
        (
            timedelta(seconds=-5),
            "0s",
            timedelta(seconds=6),
            1,
        ),  # a clock a little behind the filer's
    ],
)
def test_format_age_and_when_it_changes(
    age: timedelta, shown: str, changes_in: timedelta, step: int
) -> None:
    assert format_age(age) == shown
    assert age_changes_in(age) == changes_in
    assert age_step(age) == step


@given(st.timedeltas(min_value=timedelta(seconds=-30), max_value=timedelta(days=3650)))
def test_the_text_holds_until_the_change_and_differs_at_it(age: timedelta) -> None:
    wait = age_changes_in(age)
    assert wait > timedelta(0)
    assert format_age(age + wait - MICROSECOND) == format_age(age)
    assert format_age(age + wait) != format_age(age)
