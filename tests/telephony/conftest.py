"""Fixtures for the tests with a real phone: softphones and SIPp on the loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.telephony.rig import PhoneRig, require_programs


@pytest.fixture
def phone_rig(tmp_path: Path) -> Iterator[PhoneRig]:
    reason = require_programs()
    if reason:
        pytest.skip(reason)
    rig = PhoneRig(tmp_path / "phone")
    try:
        yield rig
    finally:
        rig.close()
