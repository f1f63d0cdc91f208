"""Messages in Indonesian (default) and English.

Every sentence the program shows lives in ``data/messages/*.toml``: one table per key
with an ``id`` and an ``en`` string, ``str.format`` placeholders for values. Files are
split by area (core, cli, console, stats, ...) so each part keeps its own words; a key
defined twice, or missing a language, is refused when the files load.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any, Final

LANGUAGES: Final = ("id", "en")
#: The most characters of one parameter a message shows: messages quote what people
#: typed or pasted ("Kelurahan tidak dikenal: …"), and a 10 MB paste must not come back.
QUOTED_LIMIT: Final = 400
DEFAULT_LANGUAGE: Final = "id"

_current_language: str | None = None


class MessageCatalogueError(Exception):
    """A message file is malformed; names the file and the key."""


def set_language(lang: str | None) -> str:
    """Set the process language (``id`` or ``en``); ``None`` means from the environment."""
    global _current_language  # noqa: PLW0603  (the process language, set once at start)
    _current_language = normalise_language(lang) if lang else None
    return current_language()


def normalise_language(lang: str) -> str:
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    return code


def current_language() -> str:
    if _current_language:
        return _current_language
    env = os.environ.get("SIAGA112_LANG", "")
    try:
        return normalise_language(env) if env else DEFAULT_LANGUAGE
    except ValueError:
        return DEFAULT_LANGUAGE


@cache
def _messages() -> dict[str, dict[str, str]]:
    from siaga_tui.core.datafiles import DATA_DIR, TomlFileError, read_toml_files

    messages: dict[str, dict[str, str]] = {}
    folder = DATA_DIR / "messages"
    files = sorted((e for e in folder.iterdir() if e.name.endswith(".toml")), key=lambda e: e.name)
    wheres = [f"data/messages/{entry.name}" for entry in files]
    try:
        tables = read_toml_files(files, wheres)
    except TomlFileError as error:
        raise MessageCatalogueError(str(error)) from None
    for where, table in zip(wheres, tables, strict=True):
        for key, texts in table.items():
            if key in messages:
                raise MessageCatalogueError(f"{where}: message {key!r} is defined twice")
            if not isinstance(texts, dict) or any(
                not isinstance(texts.get(lang), str) for lang in LANGUAGES
            ):
                raise MessageCatalogueError(
                    f"{where}: message {key!r} needs text for each of {', '.join(LANGUAGES)}"
                )
            messages[key] = {lang: texts[lang] for lang in LANGUAGES}
    return messages


def translate(key: str, lang: str | None = None, /, **params: Any) -> str:
    """The message ``key`` in ``lang``, with ``params`` filled in.

    An unknown key returns the key itself so a missing text never crashes a screen;
    the test suite checks that every key used in the code exists.
    """
    texts = _messages().get(key)
    if texts is None:
        return key
    text = texts[lang or current_language()]
    if not params:
        return text
    try:
        return text.format(**{name: _quoted(value) for name, value in params.items()})
    except (KeyError, IndexError, ValueError):
        return text


def _quoted(value: Any) -> Any:
    """A text parameter as a message may show it: cleaned like caller text, kept short.

    Parameters often quote input ("unknown kelurahan: {value}"), so they get the same
    treatment as caller text: no escape sequence, control or bidi override reaches the
    terminal through a message, and a huge paste is cut.
    """
    if not isinstance(value, str):
        return value
    from siaga_tui.core.text import clean_text

    # Cleaning only removes characters: cutting first keeps a huge paste cheap.
    text = clean_text(value[: QUOTED_LIMIT * 4], multiline=True)
    return text if len(text) <= QUOTED_LIMIT else text[: QUOTED_LIMIT - 1] + "\u2026"


def has_message(key: str) -> bool:
    return key in _messages()
