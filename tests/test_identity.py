"""The command line's sign-in gate: once accounts exist, nothing acts for a typed name.

The reliability section (tests/reliability/test_identity.py) tries every command as
every kind of wrong operator; these tests pin the gate's rules and its completeness.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from siaga_tui.cli import load_commands, main
from siaga_tui.cli.base import app
from siaga_tui.cli.identity import GATE_ATTRIBUTE
from siaga_tui.core.db import Database, open_database
from siaga_tui.services import audit
from siaga_tui.services.operators import Actor, OperatorService

PASSWORD = "kata-sandi-rahasia"
BUDI_PASSWORD = "budi-sandi-1"

#: Commands that neither change data nor show personal data: open to anyone at the
#: machine, signed in or not. Every other command must be gated (the test below).
OPEN_COMMANDS = frozenset(
    {
        "categories",  # the catalogue
        "stats",  # figures, no caller
        "board",  # the status board, read-only: no key changes data, no caller shown
        "db path",
        "db check",
        "db new",  # only where no file is: an empty database, no account to act for yet
        "audit verify",  # checks the log; names entries and rows, never a caller's data
        "audit head",  # the head for the paper log
        "operator list",  # staff accounts, never a caller
        "operator add",  # signs in itself (the first account: nobody yet)
        "operator disable",  # signs in itself
        "operator passwd",  # signs in itself (own password: with the current one)
        "tui",  # the console has its own sign-in screen
        "login",  # signs in with the password
        "logout",  # ends the session it finds
    }
)
#: The bare ``audit`` (the listing) and ``handover`` (the preview) are group callbacks:
#: they call the gate themselves (``test_showing_personal_data_needs_sign_in``).


def _commands(typer_app: typer.Typer, prefix: str = "") -> Iterator[tuple[str, object]]:
    """Every command of ``typer_app`` and its groups: (``"db upgrade"``, its function)."""
    for command in typer_app.registered_commands:
        assert command.callback is not None
        name = command.name or command.callback.__name__.replace("_", "-")
        yield f"{prefix}{name}", command.callback
    for group in typer_app.registered_groups:
        assert group.typer_instance is not None
        yield from _commands(group.typer_instance, f"{prefix}{group.name} ")


def test_every_command_is_gated_or_listed_as_open() -> None:
    load_commands(None)
    commands = dict(_commands(app))
    ungated = sorted(
        path
        for path, callback in commands.items()
        if path not in OPEN_COMMANDS and not hasattr(callback, GATE_ATTRIBUTE)
    )
    assert ungated == [], (
        f"gate these with @signed_in (cli/identity.py) or list them as open: {ungated}"
    )
    assert set(commands) >= OPEN_COMMANDS


class Cli:
    def __init__(
        self, url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.url = url
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    def __call__(
        self, *args: str, operator: str | None = None, password: str | None = None, stdin: str = ""
    ) -> tuple[int, str, str]:
        if password is None:
            self.monkeypatch.delenv("SIAGA112_PASSWORD", raising=False)
        else:
            self.monkeypatch.setenv("SIAGA112_PASSWORD", password)
        self.monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        self.capsys.readouterr()
        head = ["--db", self.url, "--lang", "en"] + (
            ["--operator", operator] if operator is not None else []
        )
        try:
            main([*head, *args])
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIAGA112_PASSWORD_HASH", "fast")


@pytest.fixture
def cli(
    any_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    return Cli(any_db_url, capsys, monkeypatch)


@pytest.fixture
def center(any_db_url: str) -> Iterator[Database]:
    """A database with a supervisor (sari), an operator (budi) and a disabled one (eko)."""
    db = open_database(any_db_url)
    service = OperatorService(db)
    service.add("sari", "Sari", "supervisor", PASSWORD)
    boss = Actor("sari", "Sari", "supervisor")
    service.add("budi", "Budi", "operator", BUDI_PASSWORD, by=boss)
    service.add("eko", "Eko", "operator", "eko-sandi-12", by=boss)
    service.disable("eko", by=boss)
    yield db
    db.dispose()


ADD = ("add", "-c", "kebakaran", "-k", "paal 4", "-d", "Rumah terbakar", "-p", "0812-3456-7890")


def test_single_user_mode_is_unchanged(cli: Cli) -> None:
    code, out, err = cli(*ADD, operator="Ani Rahma")
    assert code == 0, err
    number = out.strip()
    code, out, _ = cli("show", number, "--json")
    assert code == 0 and json.loads(out)["operator"] == "Ani Rahma"


@pytest.mark.usefixtures("center")
@pytest.mark.parametrize(
    ("operator", "password", "says"),
    [
        ("sari", None, "needs a signed-in operator"),  # the supervisor's name, no password
        ("ghost", PASSWORD, "Wrong username or password"),
        ("eko", "eko-sandi-12", "Wrong username or password"),  # disabled
        ("SARI", PASSWORD, "is not a username"),
        ("sari ", PASSWORD, "is not a username"),
        ("budi", PASSWORD, "Wrong username or password"),  # another account's password
    ],
    ids=[
        "no-password",
        "nonexistent",
        "disabled",
        "case-changed",
        "trailing-space",
        "wrong-password",
    ],
)
def test_a_typed_name_alone_never_acts(
    cli: Cli, center: Database, operator: str, password: str | None, says: str
) -> None:
    before = len(audit.list_entries(center, limit=100_000))
    code, out, err = cli(*ADD, operator=operator, password=password)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and says in err and "Traceback" not in err
    entries = audit.list_entries(center, limit=100_000)
    assert not any(e.action.startswith("report.") for e in entries[before:])


def test_the_signed_in_account_is_what_records_name(cli: Cli, center: Database) -> None:
    code, out, err = cli(*ADD, operator="budi", password=BUDI_PASSWORD)
    assert code == 0, err
    code, out, _ = cli("show", out.strip(), "--json", operator="budi", password=BUDI_PASSWORD)
    assert json.loads(out)["operator"] == "budi"
    assert [e.operator for e in audit.list_entries(center)[-3:]] == [
        "budi"
    ] * 3  # signin, report, signin


def test_showing_personal_data_needs_sign_in(cli: Cli, center: Database, tmp_path: Path) -> None:
    code, out, _ = cli(*ADD, operator="budi", password=BUDI_PASSWORD)
    number = out.strip()
    for args in (
        ("show", number),
        ("list",),
        ("list", "--json"),
        ("audit",),
        ("handover",),
        ("export", str(tmp_path / "x.csv")),
    ):
        code, out, err = cli(*args, operator="budi")
        assert code == 2 and "0812" not in out and "needs a signed-in operator" in err, args
    # Open commands stay open: nothing personal in them.
    for args in (("categories",), ("stats",), ("db", "path"), ("audit", "verify")):
        code, out, err = cli(*args)
        assert code == 0, (args, err)


# --- Sessions: login, logout, expiry, revocation, scopes ---------------------------------


def _session_files(home_run: Path) -> list[Path]:
    return sorted((home_run / "siaga112").glob("session-*.json"))


@pytest.fixture
def run_dir() -> Path:
    import os

    return Path(os.environ["XDG_RUNTIME_DIR"])


def test_login_lasts_the_shift_and_logout_ends_it(
    cli: Cli, center: Database, run_dir: Path
) -> None:
    import sqlalchemy as sa

    from siaga_tui.core.models import OPERATOR_SESSION

    code, out, err = cli("login", operator="budi", password=BUDI_PASSWORD)
    assert code == 0 and "Signed in as budi until" in out, err
    (path,) = _session_files(run_dir)
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    token = json.loads(path.read_text())["token"]
    with center.read() as conn:
        stored = conn.execute(sa.select(OPERATOR_SESSION)).mappings().one()
    assert token not in json.dumps(dict(stored), default=str) and len(stored["token_hash"]) == 64
    assert stored["expires_at"] is not None

    # No password any more, no --operator: the session's account acts.
    code, out, err = cli(*ADD)
    assert code == 0, err
    code, out, _ = cli("show", out.strip(), "--json")
    assert json.loads(out)["operator"] == "budi"
    # Naming another account (or the same one in capitals) is refused, and recorded.
    for other, says in (
        ("sari", "not 'sari'"),
        ("SARI", "is not a username"),
        ("ghost", "not 'ghost'"),
    ):
        code, out, err = cli(*ADD, operator=other)
        assert code == 2 and says in err and len(err.strip().splitlines()) == 1, other
    refusals = [e for e in audit.list_entries(center) if e.action == audit.Action.REFUSED]
    assert [(e.operator, e.subject) for e in refusals] == [("budi", "sari"), ("budi", "ghost")]
    code, out, _ = cli(*ADD, operator="budi")
    assert code == 0

    code, out, _ = cli("logout")
    assert code == 0 and "budi signed out" in out and not _session_files(run_dir)
    code, _, err = cli(*ADD)
    assert code == 2 and "needs a signed-in operator" in err
    actions = [e.action for e in audit.list_entries(center)]
    assert (
        actions.count(audit.Action.SESSION_STARTED) == 1
        and actions[-1] == audit.Action.SESSION_ENDED
    )


def test_a_second_login_at_the_desk_ends_the_first(
    cli: Cli, center: Database, run_dir: Path
) -> None:
    """Sari signing in where budi is signed in replaces the session file: budi's session
    must end there and then (recorded), not stay valid with its token thrown away."""
    assert cli("login", operator="budi", password=BUDI_PASSWORD)[0] == 0
    code, out, err = cli("login", operator="sari", password=PASSWORD)
    assert code == 0 and "budi signed out" in out and "Signed in as sari" in out, err
    assert len(_session_files(run_dir)) == 1
    code, out, err = cli("operator", "sessions", "--json")
    assert code == 0, err
    assert [s["username"] for s in json.loads(out)] == ["sari"]
    ended = [e for e in audit.list_entries(center) if e.action == audit.Action.SESSION_ENDED]
    assert [e.operator for e in ended] == ["budi"]


def test_expired_revoked_and_disabled_sessions_are_refused(cli: Cli, center: Database) -> None:
    import sqlalchemy as sa

    from siaga_tui.core.models import OPERATOR_SESSION

    assert cli("login", "--hours", "8", operator="budi", password=BUDI_PASSWORD)[0] == 0
    with center.write() as conn:
        conn.execute(sa.update(OPERATOR_SESSION).values(expires_at=sa.func.current_timestamp()))
    code, _, err = cli(*ADD)
    assert code == 2 and "expired" in err

    assert cli("login", operator="budi", password=BUDI_PASSWORD)[0] == 0
    # An operator may not see or end others' sessions; a supervisor may.
    code, _, err = cli("operator", "sessions")
    assert code == 2 and "Only a supervisor" in err
    code, out, err = cli("operator", "sessions", "--json", operator="sari", password=PASSWORD)
    live = json.loads(out)
    assert [s["username"] for s in live] == ["budi"], err
    code, out, err = cli(
        "operator", "revoke", str(live[0]["id"]), operator="sari", password=PASSWORD
    )
    assert code == 0 and "1 sign-ins revoked" in out, err
    code, _, err = cli(*ADD)
    assert code == 2 and "was ended" in err
    revoked = [e for e in audit.list_entries(center) if e.action == audit.Action.SESSION_REVOKED]
    assert [(e.operator, e.subject) for e in revoked] == [("sari", "budi")]

    # Disabling the account ends its sessions; a password change does too.
    assert cli("login", operator="budi", password=BUDI_PASSWORD)[0] == 0
    service = OperatorService(center)
    service.set_password("budi", "budi-sandi-2", by=Actor("sari", "Sari", "supervisor"))
    assert "was ended" in cli(*ADD)[2]
    assert cli("login", operator="budi", password="budi-sandi-2")[0] == 0
    service.disable("budi", by=Actor("sari", "Sari", "supervisor"))
    code, _, err = cli(*ADD)
    assert code == 2 and "was ended" in err
    ended = [e for e in audit.list_entries(center) if e.action == audit.Action.SESSION_REVOKED]
    assert [e.operator for e in ended] == ["sari"] * 3


def test_a_session_file_others_can_read_is_not_used(
    cli: Cli, center: Database, run_dir: Path
) -> None:
    assert cli("login", operator="budi", password=BUDI_PASSWORD)[0] == 0
    (path,) = _session_files(run_dir)
    path.chmod(0o644)
    code, _, err = cli(*ADD)
    assert code == 2 and "readable only by you" in err
    assert cli("logout")[0] == 0 and not path.exists()


def test_a_session_is_for_its_own_database_only(
    cli: Cli,
    center: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cli("login", operator="budi", password=BUDI_PASSWORD)[0] == 0
    other = open_database(tmp_path / "other.db")
    OperatorService(other).add("budi", "Budi", "supervisor", BUDI_PASSWORD)
    other.dispose()
    code, _, err = Cli(str(tmp_path / "other.db"), capsys, monkeypatch)(*ADD)
    assert code == 2 and "needs a signed-in operator" in err


def test_password_in_the_environment_comes_before_a_session(cli: Cli, center: Database) -> None:
    assert cli("login", operator="budi", password=BUDI_PASSWORD)[0] == 0
    code, out, err = cli(*ADD, operator="sari", password=PASSWORD)
    assert code == 0, err
    assert json.loads(cli("show", out.strip(), "--json")[1])["operator"] == "sari"


def test_phone_tokens_are_for_the_phone_commands_only(
    cli: Cli, center: Database, any_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from siaga_tui.cli.base import settings
    from siaga_tui.cli.identity import require_operator
    from siaga_tui.core.models import Scope

    OperatorService(center).add(
        "pbx", "PBX Asterisk", "operator", "pbx-sandi-123", by=Actor("sari", "Sari", "supervisor")
    )
    # Only a supervisor issues a token that never expires, or one for another account.
    code, _, err = cli(
        "login", "--scope", "phone", "--no-expiry", operator="budi", password=BUDI_PASSWORD
    )
    assert code == 2 and "Only a supervisor" in err
    code, _, err = cli("login", "--no-expiry", operator="sari", password=PASSWORD)
    assert code == 2 and "Only a phone token" in err
    code, out, err = cli(
        "login",
        "--scope",
        "phone",
        "--for",
        "pbx",
        "--no-expiry",
        "--label",
        "asterisk-1",
        operator="sari",
        password=PASSWORD,
    )
    assert code == 0 and "valid until no expiry" in err
    token = out.strip()
    assert token.startswith("s112_") and len(token) > 40
    monkeypatch.setenv("SIAGA112_TOKEN", token)
    code, _, err = cli(*ADD)
    assert code == 2 and "only for the 'phone' commands" in err
    settings.reset()
    settings.db_value = any_db_url
    actor = require_operator(scope=Scope.PHONE)
    assert (actor.username, actor.scope) == ("pbx", "phone")
    settings.reset()
    started = next(
        e for e in audit.list_entries(center) if e.action == audit.Action.SESSION_STARTED
    )
    assert (
        started.operator,
        started.subject,
        started.details["scope"],
        started.details["expires_at"],
    ) == (
        "sari",
        "pbx",
        "phone",
        None,
    )


def test_login_in_single_user_mode_says_none_is_needed(cli: Cli) -> None:
    code, out, _ = cli("login")
    assert code == 0 and "single-user mode" in out


# --- Import and bulk reads are on record --------------------------------------------------


def test_import_is_recorded_and_credits_nobody_else(
    cli: Cli,
    center: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hashlib

    # Another center's export, filed by "sari" there, before anything happened here.
    source = Cli(str(tmp_path / "other.db"), capsys, monkeypatch)
    for _ in range(3):
        assert source(*ADD, operator="sari")[0] == 0
    export = tmp_path / "lain.csv"
    assert source("export", str(export))[0] == 0
    before = audit.list_entries(center, limit=100_000)

    code, out, err = cli("import", str(export), operator="budi", password=BUDI_PASSWORD)
    assert code == 0, err
    entries = audit.list_entries(center, limit=100_000)[len(before) :]
    imported = [e for e in entries if e.action == audit.Action.IMPORTED]
    assert len(imported) == 1
    (entry,) = imported
    assert entry.operator == "budi" and entry.details["added"] == 3
    assert entry.details["file"] == str(export.resolve())
    assert entry.details["sha256"] == hashlib.sha256(export.read_bytes()).hexdigest()
    # Every replayed event's entry names budi and the time of the import, with the
    # source's name and time beside them; the log never steps back in time.
    replayed = [e for e in entries if e.action.startswith("report.")]
    assert replayed and {e.operator for e in replayed} == {"budi"}
    assert all(e.details["imported"]["event_operator"] == "sari" for e in replayed)
    everything = audit.list_entries(center, limit=100_000)
    assert all(a.at <= b.at for a, b in itertools.pairwise(everything))
    assert all(e.at >= before[-1].at for e in replayed)
    # The report says it was imported, and by whom.
    code, out, _ = cli("list", "--json", operator="budi", password=BUDI_PASSWORD)
    number = json.loads(out)["reports"][0]["number"]
    code, out, _ = cli("show", number, "--json", operator="budi", password=BUDI_PASSWORD)
    created = json.loads(out)["events"][0]
    assert created["operator"] == "sari" and created["details"]["imported"] == {
        "by": "budi",
        "file": str(export.resolve()),
    }
    assert audit.verify(center).ok


def test_bulk_reads_of_personal_data_are_recorded(
    cli: Cli, center: Database, tmp_path: Path
) -> None:
    from siaga_tui.services.export import BULK_READ_ROWS
    from siaga_tui.services.reports import NewReport, ReportService

    desk = ReportService(center, operator="budi")
    for i in range(BULK_READ_ROWS + 1):
        desk.create_report(
            NewReport(
                category="kebakaran",
                kelurahan="Bahu",
                description=f"api {i}",
                phone="0812-3456-7890",
            )
        )

    def exports() -> list[audit.AuditView]:
        return [
            e
            for e in audit.list_entries(center, limit=100_000)
            if e.action == audit.Action.EXPORT_PERSONAL
        ]

    # A page of the queue is an ordinary look: not recorded.
    assert (
        cli("list", "-n", str(BULK_READ_ROWS), "--json", operator="budi", password=BUDI_PASSWORD)[0]
        == 0
    )
    assert exports() == []
    code, out, _ = cli("list", "-n", "10000", "--json", operator="budi", password=BUDI_PASSWORD)
    assert code == 0 and len(json.loads(out)["reports"]) == BULK_READ_ROWS + 1
    (entry,) = exports()
    assert (entry.operator, entry.subject, entry.details["via"], entry.details["rows"]) == (
        "budi",
        "list --json",
        "list",
        BULK_READ_ROWS + 1,
    )
    if center.is_sqlite:
        code, out, err = cli(
            "backup", str(tmp_path / "copy.db"), operator="budi", password=BUDI_PASSWORD
        )
        assert code == 0, err
        last = exports()[-1]
        assert (last.operator, last.details["via"], last.details["rows"]) == (
            "budi",
            "backup",
            BULK_READ_ROWS + 1,
        )


def test_changing_ones_own_password_in_a_session_asks_the_current_one(
    cli: Cli, center: Database
) -> None:
    assert cli("login", operator="budi", password=BUDI_PASSWORD)[0] == 0
    code, _, err = cli("operator", "passwd", "budi", "--password-stdin", stdin="budi-sandi-baru\n")
    assert code == 2 and "password of budi is needed" in err
    # Not counted as a wrong password: nothing was checked.
    failed = [e for e in audit.list_entries(center) if e.action == audit.Action.SIGN_IN_FAILED]
    assert failed == []


def test_sessions_are_covered_by_the_audit_log(cli: Cli, center: Database) -> None:
    """Sign-ins, sign-outs and revocations leave the log intact; a session row added or
    extended behind the program's back (it would sign someone in) is a finding."""
    import sqlalchemy as sa

    from siaga_tui.core.models import OPERATOR, OPERATOR_SESSION
    from siaga_tui.services.sessions import token_hash

    assert cli("login", operator="budi", password=BUDI_PASSWORD)[0] == 0
    assert cli("logout")[0] == 0
    assert cli("login", operator="budi", password=BUDI_PASSWORD)[0] == 0
    assert cli("operator", "revoke", "--user", "budi", operator="sari", password=PASSWORD)[0] == 0
    assert audit.verify(center).ok
    with center.write() as conn:
        sari = conn.execute(
            sa.select(OPERATOR.c.id).where(OPERATOR.c.username == "sari")
        ).scalar_one()
        conn.execute(
            sa.insert(OPERATOR_SESSION).values(
                token_hash=token_hash("s112_forged"),
                operator_id=sari,
                scope="all",
                label="",
                created_at=sa.func.current_timestamp(),
            )
        )
        conn.execute(
            sa.update(OPERATOR_SESSION).where(OPERATOR_SESSION.c.id == 1).values(ended_at=None)
        )
    result = audit.verify(center)
    assert {(f.table, f.row) for f in result.findings} == {
        ("operator_session", 1),
        ("operator_session", 3),
    }
