"""``siaga112 phone``: what a PBX calls on each event of a call (ring, answer, hang up).

An Asterisk/FreePBX dialplan (README: "Phone system") or any PBX's script runs these
on its events. Each is idempotent on the phone system's call id and takes events in
any order (``services/telephony.py``). Once accounts exist they act for the signed-in
account; a PBX holds a token scoped to these commands only (``siaga112 login --scope
phone``). Each prints the call's state in one line (``--json``: the whole call).
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from siaga_tui.cli.base import app, fail, print_json, settings, t
from siaga_tui.cli.identity import Scope, signed_in
from siaga_tui.cli.json_output import PhoneCallOutput
from siaga_tui.core.errors import ValidationError
from siaga_tui.services.telephony import PhoneCallView, TelephonyService

phone_app = typer.Typer(
    help="Events from the phone system (PBX hooks): ring, answer, hangup.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(phone_app, name="phone")

CALL_ID = typer.Option(
    ..., "--call-id", help="The phone system's id of the call (e.g. Asterisk ${UNIQUEID})."
)
AT = typer.Option(
    None,
    "--at",
    help="When it happened by the phone system's clock: ISO 8601 with offset, or Unix seconds "
    "(Asterisk ${EPOCH}). Default: now.",
)
JSON = typer.Option(False, "--json", help="Print the call as JSON.")


def _service() -> TelephonyService:
    return TelephonyService(settings.database(), operator=settings.operator_name)


def parse_moment(value: str | None) -> datetime | None:
    """``--at``: ISO 8601 with an offset, or Unix seconds; refused in one line otherwise."""
    if value is None:
        return None
    text = value.strip()
    try:
        if text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), UTC)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        raise fail(t("phone_at_invalid", value=text[:40])) from None
    if moment.tzinfo is None:
        raise fail(t("phone_at_invalid", value=text[:40]))
    return moment


def _show(call: PhoneCallView, as_json: bool) -> None:
    if as_json:
        print_json(PhoneCallOutput.from_call(call).model_dump())
        return
    state = call.outcome or ("answered" if call.answered_at else "ringing")
    print(t("phone_event_done", call_id=call.system_call_id, state=t(f"phone_state_{state}")))


def _run(action: object) -> PhoneCallView:
    try:
        return action()  # type: ignore[operator]
    except ValidationError as error:
        raise fail(error.describe()) from None


@phone_app.command("ring")
@signed_in(scope=Scope.PHONE)
def ring(
    call_id: str = CALL_ID,
    phone: str = typer.Option(
        "", "--phone", help="The caller id as the PBX has it (any form; empty: withheld)."
    ),
    line: str | None = typer.Option(None, "--line", help="The line or queue the call came in on."),
    at: str | None = AT,
    as_json: bool = JSON,
) -> None:
    """A call is ringing at the center."""
    moment = parse_moment(at)
    _show(_run(lambda: _service().ring(call_id, phone, line=line, at=moment)), as_json)


@phone_app.command("answer")
@signed_in(scope=Scope.PHONE)
def answer(
    call_id: str = CALL_ID,
    position: str | None = typer.Option(
        None, "--position", help="The position (extension) that answered."
    ),
    at: str | None = AT,
    as_json: bool = JSON,
) -> None:
    """The call was answered."""
    moment = parse_moment(at)
    _show(_run(lambda: _service().answer(call_id, position=position, at=moment)), as_json)


@phone_app.command("hangup")
@signed_in(scope=Scope.PHONE)
def hangup(
    call_id: str = CALL_ID,
    dropped: bool = typer.Option(
        False, "--dropped", help="The line was cut after the answer (not a normal end)."
    ),
    at: str | None = AT,
    as_json: bool = JSON,
) -> None:
    """The call ended (before the answer: abandoned, onto the call-back list)."""
    moment = parse_moment(at)
    _show(_run(lambda: _service().hangup(call_id, at=moment, dropped=dropped)), as_json)
