"""Every message key the code names exists (with its Indonesian and English text).

``i18n`` already refuses a message file where a key lacks one of the languages; this
test finds the other half: a key used in the code that no message file defines, which
would show the bare key to an operator. The code is read, not run: every call of the
translators and of the errors that carry a key, with the key written out, and the
keys built with an f-string checked by the part that is written out.
"""

from __future__ import annotations

import ast
from pathlib import Path

from siaga_tui.core import i18n

PACKAGE = Path(__file__).resolve().parent.parent / "siaga_tui"
#: Functions whose first argument is a message key.
TRANSLATORS = {"translate", "t", "message_text", "has_message"}
#: Errors whose first argument is a message key (``ValidationError``: its second).
KEYED_ERRORS = {
    "SiagaError",
    "NotFound",
    "TransitionRefused",
    "ConflictError",
    "PermissionDenied",
    "StorageError",
    "ImportRefused",
    "BackupRefused",
    "ExportRefused",
    "DemoRefused",
}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _key_argument(call: ast.Call) -> ast.expr | None:
    name = _name(call.func)
    if name in TRANSLATORS or name in KEYED_ERRORS:
        return call.args[0] if call.args else None
    if name == "ValidationError":
        return call.args[1] if len(call.args) > 1 else None
    if name == "Key":  # a footer key: Key(key, action, label)
        return call.args[2] if len(call.args) > 2 else None
    return None


def keys_in_code() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Keys written out, and the written-out starts of keys built with an f-string,
    each with where it is used."""
    whole: dict[str, list[str]] = {}
    starts: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            argument = _key_argument(node)
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                whole.setdefault(argument.value, []).append(where)
            elif isinstance(argument, ast.JoinedStr) and argument.values:
                first = argument.values[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    starts.setdefault(first.value, []).append(where)
    return whole, starts


def test_the_scan_finds_the_keys_the_code_uses() -> None:
    whole, starts = keys_in_code()
    # It reads every kind of place a key is named (a scan finding nothing passes anything).
    assert "report_not_found" in whole  # NotFound(...)
    assert "text_required" in whole  # ValidationError(field, key)
    assert "console_key_help" in whole  # Key(..., label)
    assert "stats_interval_" in starts  # f"stats_interval_{name}"
    assert len(whole) > 300


def test_every_key_used_in_the_code_has_a_message() -> None:
    whole, _ = keys_in_code()
    known = set(i18n._messages())
    missing = {key: places for key, places in whole.items() if key not in known}
    assert missing == {}


def test_every_key_built_in_the_code_starts_some_message() -> None:
    _, starts = keys_in_code()
    known = set(i18n._messages())
    missing = {
        start: places
        for start, places in starts.items()
        if not any(key.startswith(start) for key in known)
    }
    assert missing == {}


#: ``siaga112 WORD`` in running text where WORD is no command ("a siaga112 key").
PROSE_AFTER_NAME = {"key", "hanya", "yang", "dipulihkan", "backup copies", "command"}


def test_every_command_a_message_names_exists() -> None:
    """A message that sends the reader to ``siaga112 WORD`` names a real command (the
    import once advised ``siaga112 restore``, which never existed)."""
    import re

    import typer

    from siaga_tui.cli import load_commands
    from siaga_tui.cli.base import app

    load_commands(None)
    click_app = typer.main.get_command(app)
    commands = set(getattr(click_app, "commands", {}))
    named = re.compile(r"siaga112(?: --[a-z-]+ \S+)* ([a-z][a-z-]*)(?=(?: ([a-z]+))?)")
    wrong = []
    for key, texts in i18n._messages().items():
        for lang, text in texts.items():
            for match in named.finditer(text):
                word, following = match.groups()
                if word in PROSE_AFTER_NAME or f"{word} {following}" in PROSE_AFTER_NAME:
                    continue
                if word not in commands:
                    wrong.append(f"{key} ({lang}): siaga112 {word}")
    assert commands and not wrong, wrong
