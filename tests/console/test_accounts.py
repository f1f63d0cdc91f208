"""The console with accounts: sign-in first, the signed-in name on everything, the
first supervisor created from the palette, and the shift handover screen."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Label, TextArea
from textual.worker import WorkerCancelled

from siaga_tui.app import SiagaApp, make_app
from siaga_tui.core.db import Database
from siaga_tui.core.errors import PermissionDenied
from siaga_tui.core.timeutil import fixed_clock
from siaga_tui.screens.handover import HandoverScreen
from siaga_tui.screens.queue import QueueScreen
from siaga_tui.screens.signin import SignInScreen
from siaga_tui.services import audit
from siaga_tui.services.handover import HandoverService
from siaga_tui.services.operators import Actor, OperatorService
from siaga_tui.widgets.status_header import StatusHeader
from tests.conftest import FROZEN_NOW
from tests.console.conftest import notices, settle

PASSWORD = "kata-sandi-rahasia"


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIAGA112_PASSWORD_HASH", "fast")


@pytest.fixture
def with_accounts(seeded_db: Database) -> Database:
    service = OperatorService(seeded_db, sleep=lambda _: None)
    service.add("sari", "Sari", "supervisor", PASSWORD)
    service.add("budi", "Budi", "operator", "budi-sandi-1", by=Actor("sari", "Sari", "supervisor"))
    return seeded_db


def console(db: Database, operator: str = "login-name") -> SiagaApp:
    return make_app(db, operator=operator, lang="en", clock=fixed_clock(FROZEN_NOW))


async def sign_in(pilot, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    screen = pilot.app.screen
    screen.query_one("#signin-username", Input).value = username
    screen.query_one("#signin-password", Input).value = password
    screen.query_one("#signin-password", Input).focus()
    await pilot.press("enter")
    await settle(pilot)


async def test_without_accounts_the_console_opens_on_the_queue(seeded_db: Database) -> None:
    async with console(seeded_db).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(pilot.app.screen, QueueScreen)
        assert pilot.app.role is None


async def test_with_accounts_it_opens_on_sign_in_and_refuses_a_wrong_password(
    with_accounts: Database,
) -> None:
    async with console(with_accounts).run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(pilot.app.screen, SignInScreen)
        for key in ("f2", "f3", "f4", "f1", "ctrl+p"):  # no way around it
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(pilot.app.screen, SignInScreen), key
        await sign_in(pilot, "budi", "salah")
        assert isinstance(pilot.app.screen, SignInScreen)
        message = pilot.app.screen.query_one("#signin-message", Label)
        assert "Wrong username or password" in str(message.render())
        assert pilot.app.screen.query_one("#signin-password", Input).value == ""
        await sign_in(pilot, "budi", "budi-sandi-1")
        assert isinstance(pilot.app.screen, QueueScreen)
        assert (pilot.app.operator, pilot.app.role) == ("budi", "operator")
        header = pilot.app.screen.query_one(StatusHeader)
        assert "budi" in " ".join(str(s.render()) for s in header.query("#header-line > Static"))
        await pilot.press("f1")  # the keys work once signed in
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "HelpScreen"
    actions = [e.action for e in audit.list_entries(with_accounts, action="signin")]
    assert actions == ["signin"]
    assert audit.list_entries(with_accounts, action="signin.failed")[0].subject == "budi"


async def test_signed_in_operator_is_on_the_record_and_may_not_reopen(
    with_accounts: Database,
) -> None:
    app = console(with_accounts)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await sign_in(pilot, "budi", "budi-sandi-1")
        assert (app.reports.operator, app.reports.role, app.calls.operator) == (
            "budi",
            "operator",
            "budi",
        )
    report_id = 1
    app.reports.change_status(report_id, "selesai", note="padam")
    with pytest.raises(PermissionDenied):
        app.reports.reopen(report_id, "salah tutup")
    assert audit.list_entries(with_accounts)[-1].action == audit.Action.REFUSED


async def test_first_supervisor_from_the_palette(seeded_db: Database) -> None:
    app = console(seeded_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.action_create_supervisor()
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, SignInScreen) and screen.create_first
        screen.query_one("#signin-username", Input).value = "sari"
        screen.query_one("#signin-display-name", Input).value = "Sari"
        screen.query_one("#signin-password", Input).value = PASSWORD
        screen.query_one("#signin-repeat", Input).value = "lain-sekali"
        screen.submit()
        await settle(pilot)
        assert "differ" in str(screen.query_one("#signin-message", Label).render())
        screen.query_one("#signin-repeat", Input).value = PASSWORD
        screen.query_one("#signin-password", Input).value = PASSWORD
        screen.submit()
        try:  # the queue is opened afresh under the new name: its old loads are cancelled
            await settle(pilot)
        except WorkerCancelled:
            await settle(pilot)
        assert isinstance(pilot.app.screen, QueueScreen)
        assert (app.operator, app.role) == ("sari", "supervisor")
    assert [a.role for a in OperatorService(seeded_db).list_accounts()] == ["supervisor"]


async def test_handover_screen_records_and_the_next_shift_accepts(seeded_db: Database) -> None:
    ani = console(seeded_db, operator="ani")
    async with ani.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        ani.action_handover()
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, HandoverScreen)
        assert "Still open: 5 reports" in str(screen.query_one("#handover-open", Label).render())
        assert screen.query_one(DataTable).row_count == 5
        assert audit.audit_head(seeded_db).hash in str(
            screen.query_one("#handover-head", Label).render()
        )
        assert not screen.check_action("accept", ())  # nothing waiting
        screen.query_one(TextArea).text = "Kebakaran Paal Dua: Damkar belum konfirmasi [/bold] ]"
        await pilot.press("ctrl+s")  # asks first
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any("Handover #1 recorded" in n for n in notices(ani))
    budi = console(seeded_db, operator="budi")
    async with budi.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        budi.action_handover()
        await settle(pilot)
        screen = pilot.app.screen
        assert screen.pending is not None and screen.pending.outgoing == "ani"
        assert "[/bold]" in str(screen.query_one("#handover-pending").render())
        await pilot.press("f6")
        await settle(pilot)
        assert any("accepted by budi" in n for n in notices(budi))
        assert screen.pending is None
    stored = HandoverService(seeded_db, operator="x").get(1)
    assert (stored.outgoing, stored.incoming) == ("ani", "budi")


async def test_before_sign_in_no_key_acts_and_nothing_is_recorded(with_accounts: Database) -> None:
    """Every key the console has on every screen (the global and the phone keys, the
    palette, the report keys), pressed before anyone signed in: still the sign-in
    screen, nothing written, the phone not even followed."""
    from siaga_tui.core.models import metadata
    from siaga_tui.screens.localised import GLOBAL_KEYS, PHONE_KEYS

    def rows() -> dict[str, int]:
        import sqlalchemy as sa

        with with_accounts.read() as conn:
            return {
                t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                for t in metadata.sorted_tables
            }

    before = rows()
    keys = [key.key for key in (*GLOBAL_KEYS, *PHONE_KEYS)] + [
        "ctrl+p",
        "ctrl+s",
        "ctrl+n",
        "b",
        "escape",
    ]
    async with console(with_accounts, operator="sari").run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(pilot.app.screen, SignInScreen), key
            assert len(pilot.app.screen_stack) == 2, key  # the default screen and sign-in
        assert pilot.app.role is None
    assert rows() == before
