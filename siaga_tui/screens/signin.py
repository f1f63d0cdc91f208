"""Sign-in: the first screen of the console once operator accounts exist.

Username and password, Enter to sign in. A wrong password is answered after the
service's growing delay (in a worker, so the screen never freezes) and the fifth in a
row locks the account for 15 minutes; the message says which, never whether the
username exists.

First run: while no account exists the console runs in single-user mode, exactly as
before accounts existed (a center that has not set accounts up loses nothing, and the
demo database stays open). The first supervisor can be created from the command
palette ("Create the first supervisor") or with ``siaga112 operator add``; this screen
in ``create_first`` mode asks for the username, display name and the password twice,
creates the account and signs it in. From then on the console starts here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Input, Label

from siaga_tui.core.errors import InvalidInput, SiagaError
from siaga_tui.core.i18n import translate
from siaga_tui.core.models import Role
from siaga_tui.services.operators import Actor, OperatorService
from siaga_tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from siaga_tui.app import SiagaApp


class SignInScreen(Screen[Actor]):
    """Returns the signed-in ``Actor``; in ``create_first`` mode, creates it first."""

    CSS_PATH = "../styles/signin.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", show=False)]

    def __init__(self, *, create_first: bool = False) -> None:
        super().__init__()
        self.create_first = create_first

    @property
    def console(self) -> SiagaApp:
        return self.app  # type: ignore[return-value]

    def _t(self, key: str, **params: object) -> str:
        return translate(key, self.console.lang, **params)

    def compose(self) -> ComposeResult:
        title = "signin_create_title" if self.create_first else "signin_title"
        with Center(), Vertical(id="signin-box"):
            yield Label(self._t(title), id="signin-title", markup=False)
            yield Label(
                self._t("signin_intro_create" if self.create_first else "signin_intro"),
                id="signin-intro",
                markup=False,
            )
            yield Label(self._t("field_username"), classes="signin-label", markup=False)
            yield Input(id="signin-username", max_length=64, compact=True)
            if self.create_first:
                yield Label(self._t("field_display_name"), classes="signin-label", markup=False)
                yield Input(id="signin-display-name", max_length=120, compact=True)
            yield Label(self._t("field_password"), classes="signin-label", markup=False)
            yield Input(id="signin-password", password=True, max_length=1024, compact=True)
            if self.create_first:
                yield Label(self._t("signin_repeat_password"), classes="signin-label", markup=False)
                yield Input(id="signin-repeat", password=True, max_length=1024, compact=True)
            yield Label("", id="signin-message", markup=False)
            yield Label(self._t("signin_hint"), id="signin-hint", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False
        self.query_one("#signin-username", Input).focus()

    @on(Input.Submitted)
    def _next_or_submit(self, event: Input.Submitted) -> None:
        """Enter moves to the next field; on the last one it signs in."""
        event.stop()
        fields = list(self.query(Input))
        position = fields.index(event.input)
        if position + 1 < len(fields) and not fields[position + 1].value:
            fields[position + 1].focus()
            return
        self.submit()

    def submit(self) -> None:
        username = self.query_one("#signin-username", Input).value
        password = self.query_one("#signin-password", Input).value
        if not username.strip():
            self.query_one("#signin-username", Input).focus()
            return
        if self.create_first:
            display = self.query_one("#signin-display-name", Input).value
            if self.query_one("#signin-repeat", Input).value != password:
                self._refused(self._t("acct_password_mismatch"))
                return
            self._show(self._t("signin_working"), error=False)
            self._create(username, display, password)
        else:
            self._show(self._t("signin_working"), error=False)
            self._sign_in(username, password)

    @work(thread=True, exclusive=True, group="signin", exit_on_error=False)
    def _sign_in(self, username: str, password: str) -> None:
        try:
            actor = OperatorService(self.console.db, clock=self.console.clock).sign_in(
                username, password
            )
        except SiagaError as error:
            self.app.call_from_thread(self._refused, error.message(self.console.lang))
            return
        self.app.call_from_thread(self.dismiss, actor)

    @work(thread=True, exclusive=True, group="signin", exit_on_error=False)
    def _create(self, username: str, display: str, password: str) -> None:
        service = OperatorService(self.console.db, clock=self.console.clock)
        try:
            service.add(username, display, Role.SUPERVISOR.value, password)
            actor = service.sign_in(username, password)
        except InvalidInput as error:
            text = "; ".join(e.describe(self.console.lang) for e in error.errors)
            self.app.call_from_thread(self._refused, text)
            return
        except SiagaError as error:
            self.app.call_from_thread(self._refused, error.message(self.console.lang))
            return
        self.app.call_from_thread(self.dismiss, actor)

    def _refused(self, message: str) -> None:
        self._show(message, error=True)
        for field_id in ("#signin-password", "#signin-repeat"):
            for field in self.query(field_id).results(Input):
                field.value = ""
        self.query_one("#signin-password", Input).focus()

    def _show(self, message: str, *, error: bool) -> None:
        label = self.query_one("#signin-message", Label)
        label.update(message)
        label.set_class(error, "-error")

    def action_cancel(self) -> None:
        """Esc: back out of creating the first supervisor; signing in cannot be skipped."""
        if self.create_first:
            self.dismiss(None)
