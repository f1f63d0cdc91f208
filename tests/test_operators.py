"""Accounts, sign-in with slow-down and lock-out, and the supervisor-only actions."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from siaga_tui.core.db import Database
from siaga_tui.core.errors import InvalidInput, PermissionDenied
from siaga_tui.core.models import OPERATOR
from siaga_tui.services import audit
from siaga_tui.services.operators import (
    LOCKOUT,
    MAX_FAILURES,
    Actor,
    OperatorService,
    Permission,
    check_permission,
    failure_delay,
)
from siaga_tui.services.reports import NewReport, ReportService

PASSWORD = "kata-sandi-rahasia"


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIAGA112_PASSWORD_HASH", "fast")


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def accounts(any_db: Database, clock, sleeps: Sleeps) -> OperatorService:
    service = OperatorService(any_db, clock=clock, sleep=sleeps)
    service.add("sari", "Sari Supervisor", "supervisor", PASSWORD)
    boss = Actor("sari", "Sari Supervisor", "supervisor")
    service.add("budi", "Budi Operator", "operator", PASSWORD, by=boss)
    return service


def actions(db: Database) -> list[str]:
    return [entry.action for entry in audit.list_entries(db)]


def test_passwords_are_stored_only_as_argon2_hashes(
    accounts: OperatorService, any_db: Database
) -> None:
    with any_db.read() as conn:
        stored = list(conn.execute(sa.select(OPERATOR.c.password_hash)).scalars())
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)
    assert len(set(stored)) == 2  # salted: the same password hashes differently


def test_production_hash_parameters_are_the_slow_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    from siaga_tui.services.operators import password_hasher

    monkeypatch.delenv("SIAGA112_PASSWORD_HASH")
    hasher = password_hasher()
    assert hasher.memory_cost >= 65536 and hasher.time_cost >= 3


def test_sign_in_succeeds_and_is_recorded(accounts: OperatorService, any_db: Database) -> None:
    actor = accounts.sign_in("Budi", PASSWORD)
    assert actor == Actor("budi", "Budi Operator", "operator")
    assert actions(any_db)[-1] == audit.Action.SIGN_IN


def test_wrong_password_is_slowed_down_recorded_and_locks_out(
    accounts: OperatorService, any_db: Database, clock, sleeps: Sleeps
) -> None:
    for attempt in range(1, MAX_FAILURES):
        with pytest.raises(PermissionDenied) as caught:
            accounts.sign_in("budi", "salah")
        assert caught.value.key == "acct_signin_failed"
        assert accounts.get("budi").failed_attempts == attempt
    with pytest.raises(PermissionDenied) as caught:
        accounts.sign_in("budi", "salah")
    assert caught.value.key == "acct_locked"
    assert sleeps == [failure_delay(n) for n in range(1, MAX_FAILURES + 1)]
    assert sleeps == sorted(sleeps) and sleeps[0] > 0
    assert accounts.get("budi").is_locked(clock())
    # Locked: even the right password is refused, and that is recorded too.
    with pytest.raises(PermissionDenied) as caught:
        accounts.sign_in("budi", PASSWORD)
    assert caught.value.key == "acct_locked"
    failed = audit.list_entries(any_db, action=audit.Action.SIGN_IN_FAILED)
    assert [e.details["failures"] for e in failed] == [1, 2, 3, 4, 5]
    assert actions(any_db)[-1] == audit.Action.SIGN_IN_LOCKED
    clock.advance(seconds=LOCKOUT.total_seconds() + 1)
    assert accounts.sign_in("budi", PASSWORD).username == "budi"
    assert accounts.get("budi").failed_attempts == 0


def test_unknown_and_disabled_accounts_get_the_same_answer(
    accounts: OperatorService, any_db: Database
) -> None:
    with pytest.raises(PermissionDenied) as unknown:
        accounts.sign_in("nobody", PASSWORD)
    accounts.disable("budi", by=Actor("sari", "Sari", "supervisor"))
    with pytest.raises(PermissionDenied) as disabled:
        accounts.sign_in("budi", PASSWORD)
    assert unknown.value.key == disabled.value.key == "acct_signin_failed"
    assert actions(any_db)[-1] == audit.Action.SIGN_IN_FAILED


def test_first_account_must_be_a_supervisor(any_db: Database, clock) -> None:
    service = OperatorService(any_db, clock=clock)
    with pytest.raises(InvalidInput) as caught:
        service.add("budi", "Budi", "operator", PASSWORD)
    assert caught.value.fields == ["role"]
    assert not service.has_accounts()


def test_account_form_errors(accounts: OperatorService) -> None:
    boss = Actor("sari", "Sari", "supervisor")
    for username, name, role, password, field in [
        ("Budi Santoso!", "x", "operator", PASSWORD, "username"),
        ("budi", "Budi", "operator", PASSWORD, "username"),  # taken
        ("ani", "Ani", "admin", PASSWORD, "role"),
        ("ani", "Ani", "operator", "pendek", "password"),
        ("ani", "   ", "operator", PASSWORD, "display_name"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            accounts.add(username, name, role, password, by=boss)
        assert caught.value.fields == [field]


def test_the_last_supervisor_cannot_be_disabled(accounts: OperatorService) -> None:
    with pytest.raises(PermissionDenied) as caught:
        accounts.disable("sari", by=Actor("sari", "Sari", "supervisor"))
    assert caught.value.key == "acct_last_supervisor"


def test_password_change_own_with_current_or_by_a_supervisor(accounts: OperatorService) -> None:
    budi = Actor("budi", "Budi", "operator")
    with pytest.raises(PermissionDenied):
        accounts.set_password("budi", "baru-sekali-123", by=budi, current_password="salah")
    accounts.set_password("budi", "baru-sekali-123", by=budi, current_password=PASSWORD)
    assert accounts.sign_in("budi", "baru-sekali-123")
    for _ in range(MAX_FAILURES):
        with pytest.raises(PermissionDenied):
            accounts.sign_in("budi", "salah")
    accounts.set_password("budi", "lagi-baru-456", by=Actor("sari", "Sari", "supervisor"))
    assert accounts.sign_in("budi", "lagi-baru-456").role == "operator"


# --- Every supervisor-only action, refused for an operator and recorded ----------------


def closed_report(db: Database, clock) -> int:
    desk = ReportService(db, operator="sari", clock=clock, role="supervisor")
    saved = desk.create_report(NewReport(category="kebakaran", kelurahan="Bahu", description="api"))
    desk.change_status(saved.id, "selesai", note="padam")
    return saved.id


def test_operator_may_not_reopen_and_the_refusal_is_recorded(
    accounts: OperatorService, any_db: Database, clock
) -> None:
    report_id = closed_report(any_db, clock)
    desk = ReportService(any_db, operator="budi", clock=clock, role="operator")
    with pytest.raises(PermissionDenied) as caught:
        desk.reopen(report_id, "salah tutup")
    assert caught.value.key == "acct_denied_reopen_report"
    assert desk.get_report(report_id).summary.status == "selesai"
    refusal = audit.list_entries(any_db, action=audit.Action.REFUSED)[-1]
    assert (refusal.operator, refusal.details["permission"]) == ("budi", "reopen_report")
    boss = ReportService(any_db, operator="sari", clock=clock, role="supervisor")
    assert boss.reopen(report_id, "salah tutup") == "menunggu"


def test_unknown_role_with_accounts_is_treated_as_an_operator(
    accounts: OperatorService, any_db: Database, clock
) -> None:
    report_id = closed_report(any_db, clock)
    with pytest.raises(PermissionDenied):
        ReportService(any_db, operator="budi", clock=clock).reopen(report_id, "salah tutup")


def test_single_user_mode_allows_everything(any_db: Database, clock) -> None:
    report_id = closed_report(any_db, clock)
    assert (
        ReportService(any_db, operator="budi", clock=clock).reopen(report_id, "alasan")
        == "menunggu"
    )
    check_permission(any_db, operator="budi", role=None, permission=Permission.EXPORT_PERSONAL_DATA)


def test_operator_may_not_export_personal_data(accounts: OperatorService, any_db: Database) -> None:
    with pytest.raises(PermissionDenied) as caught:
        check_permission(
            any_db, operator="budi", role="operator", permission=Permission.EXPORT_PERSONAL_DATA
        )
    assert caught.value.key == "acct_denied_export_personal_data"
    assert audit.list_entries(any_db)[-1].details["permission"] == "export_personal_data"


@pytest.mark.parametrize("action", ["add", "disable", "passwd"])
def test_operator_may_not_manage_accounts(
    accounts: OperatorService, any_db: Database, action: str
) -> None:
    budi = Actor("budi", "Budi", "operator")
    with pytest.raises(PermissionDenied) as caught:
        if action == "add":
            accounts.add("ani", "Ani", "supervisor", PASSWORD, by=budi)
        elif action == "disable":
            accounts.disable("sari", by=budi)
        else:
            accounts.set_password("sari", "diambil-alih-1", by=budi)
    assert caught.value.key == "acct_denied_manage_accounts"
    refusal = audit.list_entries(any_db)[-1]
    assert (refusal.action, refusal.operator) == (audit.Action.REFUSED, "budi")
    assert [a.username for a in accounts.list_accounts()] == ["budi", "sari"]
    assert accounts.sign_in("sari", PASSWORD)


def test_account_changes_are_in_the_audit_log(accounts: OperatorService, any_db: Database) -> None:
    accounts.disable("budi", by=Actor("sari", "Sari", "supervisor"))
    entries = audit.list_entries(any_db, action="account.")
    assert [(e.action, e.subject, e.operator) for e in entries] == [
        ("account.added", "sari", "sari"),
        ("account.added", "budi", "sari"),
        ("account.disabled", "budi", "sari"),
    ]
    assert all(PASSWORD not in str(e.details) for e in entries)
    assert audit.verify(any_db).ok


# --- The command line -----------------------------------------------------------------


class Cli:
    """Runs ``siaga112`` in-process with stdin and the password environment given."""

    def __init__(
        self, url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.url = url
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    def __call__(
        self, *args: str, operator: str = "sari", password: str | None = PASSWORD, stdin: str = ""
    ) -> tuple[int, str, str]:
        import io

        from siaga_tui.cli import main

        if password is None:
            self.monkeypatch.delenv("SIAGA112_PASSWORD", raising=False)
        else:
            self.monkeypatch.setenv("SIAGA112_PASSWORD", password)
        self.monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        self.capsys.readouterr()
        try:
            main(["--db", self.url, "--lang", "en", "--operator", operator, *args])
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(
    any_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    return Cli(any_db_url, capsys, monkeypatch)


def test_cli_accounts_from_the_first_supervisor_on(cli: Cli) -> None:
    code, out, _ = cli("operator", "list")
    assert code == 0 and "single-user" in out
    code, _, err = cli(
        "operator", "add", "budi", "--name", "Budi", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 2 and "first account must be a supervisor" in err
    code, out, _ = cli(
        "operator",
        "add",
        "sari",
        "--name",
        "Sari",
        "--role",
        "supervisor",
        "--password-stdin",
        stdin=PASSWORD + "\n",
        password=None,
    )
    assert code == 0 and "sari" in out
    code, out, err = cli(
        "operator",
        "add",
        "budi",
        "--name",
        "Budi Santoso",
        "--password-stdin",
        stdin="budi-sandi-1\n",
    )
    assert code == 0, err
    code, out, _ = cli("operator", "list", "--json")
    listed = json.loads(out)
    assert [(a["username"], a["role"], a["active"]) for a in listed] == [
        ("budi", "operator", True),
        ("sari", "supervisor", True),
    ]
    assert "hash" not in out and PASSWORD not in out
    # An operator may not manage accounts: refused, recorded, one line.
    code, _, err = cli("operator", "disable", "sari", operator="budi", password="budi-sandi-1")
    assert code == 2 and "Only a supervisor may manage accounts" in err
    # A wrong supervisor password is refused.
    code, _, err = cli("operator", "disable", "budi", password="salah")
    assert code == 2 and "Wrong username or password" in err
    # No password and no terminal: told how to give one.
    code, _, err = cli("operator", "disable", "budi", password=None)
    assert code == 2 and "SIAGA112_PASSWORD" in err
    code, out, _ = cli(
        "operator",
        "passwd",
        "budi",
        "--password-stdin",
        stdin="budi-sandi-2\n",
        operator="budi",
        password="budi-sandi-1",
    )
    assert code == 0 and "budi" in out
    code, out, _ = cli("operator", "disable", "budi")
    assert code == 0
    code, out, _ = cli("operator", "list")
    assert "disabled" in out


def test_cli_reopen_needs_a_supervisor_once_accounts_exist(
    cli: Cli, any_db_url: str, clock
) -> None:
    from siaga_tui.core.db import open_database

    db = open_database(any_db_url)
    report_id = closed_report(db, clock)
    number = ReportService(db, operator="x").get_report(report_id).summary.number
    service = OperatorService(db, clock=clock)
    service.add("sari", "Sari", "supervisor", PASSWORD)
    service.add("budi", "Budi", "operator", "budi-sandi-1", by=Actor("sari", "Sari", "supervisor"))
    code, _, err = cli(
        "reopen", number, "--reason", "salah tutup", operator="budi", password="budi-sandi-1"
    )
    assert code == 2 and "Only a supervisor may reopen" in err
    assert audit.list_entries(db)[-1].action == audit.Action.REFUSED
    code, _out, err = cli("reopen", number, "--reason", "salah tutup")
    assert code == 0, err
    db.dispose()


def test_cli_personal_data_export_needs_a_supervisor(
    cli: Cli, any_db_url: str, clock, tmp_path
) -> None:
    from siaga_tui.core.db import open_database

    db = open_database(any_db_url)
    closed_report(db, clock)
    service = OperatorService(db, clock=clock)
    service.add("sari", "Sari", "supervisor", PASSWORD)
    service.add("budi", "Budi", "operator", "budi-sandi-1", by=Actor("sari", "Sari", "supervisor"))
    target = tmp_path / "pribadi.csv"
    code, _, err = cli(
        "export", str(target), "--include-personal-data", operator="budi", password="budi-sandi-1"
    )
    assert code == 2 and "Only a supervisor may export" in err
    assert not target.exists()
    refusal = audit.list_entries(db)[-1]
    assert (refusal.action, refusal.operator, refusal.details["permission"]) == (
        audit.Action.REFUSED,
        "budi",
        "export_personal_data",
    )
    # Masked exports stay open to every signed-in operator.
    code, _, err = cli(
        "export", str(tmp_path / "masked.csv"), operator="budi", password="budi-sandi-1"
    )
    assert code == 0, err
    code, _, err = cli("export", str(target), "--include-personal-data")
    assert code == 0, err
    assert target.exists()
    assert audit.list_entries(db)[-1].action == audit.Action.EXPORT_PERSONAL
    db.dispose()


def test_signing_in_never_weakens_the_stored_hash(
    any_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With SIAGA112_PASSWORD_HASH=fast (m=8, t=1, p=1) a sign-in used to rewrite a
    production hash down to the test parameters; now only a stronger hasher rehashes."""
    from argon2 import PasswordHasher, extract_parameters

    monkeypatch.delenv("SIAGA112_PASSWORD_HASH")
    strong = OperatorService(
        any_db, hasher=PasswordHasher(time_cost=3, memory_cost=16384, parallelism=2)
    )
    strong.add("sari", "Sari", "supervisor", PASSWORD)

    def stored() -> str:
        with any_db.read() as conn:
            return str(conn.execute(sa.select(OPERATOR.c.password_hash)).scalar_one())

    before = stored()
    monkeypatch.setenv("SIAGA112_PASSWORD_HASH", "fast")
    OperatorService(any_db).sign_in("sari", PASSWORD)
    assert stored() == before
    # Weaker in one parameter only (less memory, more passes): still not rewritten.
    OperatorService(
        any_db, hasher=PasswordHasher(time_cost=4, memory_cost=8192, parallelism=2)
    ).sign_in("sari", PASSWORD)
    assert stored() == before
    # A stronger hasher does rehash, and the password still works.
    OperatorService(
        any_db, hasher=PasswordHasher(time_cost=3, memory_cost=32768, parallelism=2)
    ).sign_in("sari", PASSWORD)
    params = extract_parameters(stored())
    assert (params.time_cost, params.memory_cost, params.parallelism) == (3, 32768, 2)
    OperatorService(any_db).sign_in("sari", PASSWORD)
