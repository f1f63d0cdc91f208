"""The catalogue: report categories, agencies, and Manado's kecamatan and kelurahan.

Supervisors maintain these in ``siaga_tui/data/{categories,agencies,wilayah}.toml``.
This module reads them once, checks them thoroughly (a mistake is reported with the
file, the entry and the field, so that the person who edited the file can fix it) and
answers what the console asks while a call is taken: which category hotkey ``3`` picks,
who handles a fire, which kelurahan a caller means by "paal 4".

Place names are matched after normalisation (see ``normalise_name``): case, punctuation
and spacing do not matter, and Satu/Dua, I/II and 1/2 are the same word.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn

from siaga_tui.core.datafiles import DATA_DIR, TomlFileError, read_toml_files
from siaga_tui.core.errors import NotFound, ValidationError
from siaga_tui.core.i18n import current_language
from siaga_tui.core.models import Kind

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

#: The kinds, emergencies first (``models.Kind``, the one enum of them).
KINDS: Final = tuple(Kind)
PRIORITY_RANGE: Final = range(1, 5)
QUESTION_COUNT: Final = range(3, 7)
SHORT_NAME_MAX: Final = 12

_CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")
_PHONE = re.compile(r"[0-9()+\- ]{5,}")
_KELURAHAN_CODE_TEXT = re.compile(r"(\d{2})\.?(\d{2})\.?(\d{2})\.?(\d{4})")
# Callers write the numbered kelurahan every way: "Tumumpa Satu", "Tumumpa I", "Tumumpa 1".
_NUMBER_WORDS: Final = {
    "i": "1", "ii": "2", "iii": "3", "iv": "4",
    "satu": "1", "dua": "2", "tiga": "3", "empat": "4",
}  # fmt: skip
_KELURAHAN_WORDS: Final = frozenset({"kelurahan", "kel", "desa"})
_KECAMATAN_WORDS: Final = frozenset({"kecamatan", "kec"})
_CITY_NAMES: Final = frozenset({"manado", "kota manado"})
_CANDIDATES_SHOWN: Final = 8
#: Longer than any way of writing a place ("Kelurahan Malalayang Satu Timur, Kecamatan
#: Malalayang" is 55): such text is a paste, refused at once instead of fuzzy-matched
#: (difflib on a 10 MB paste takes seconds).
_LONGEST_PLACE_TEXT: Final = 120
#: A near miss must score at least this (rapidfuzz WRatio, 0-100) to be offered: it
#: keeps "tikla baru" → Tikala Baru (95), "ternate tj" → Ternate Tanjung (86), and drops
#: what merely shares a word ("bahu" → Ketang Baru, 68).
FUZZY_CUTOFF: Final = 75
#: Shorter text is only completed, never matched loosely.
FUZZY_MIN_LENGTH: Final = 3


class CatalogueError(Exception):
    """A catalogue file is missing or wrong; the message names file, entry and field."""


# --- The entries ------------------------------------------------------------------


def _language(lang: str | None) -> str:
    return "en" if (lang or current_language()).lower().startswith("en") else "id"


@dataclass(frozen=True)
class Agency:
    """An agency a report is forwarded to (Damkar, Polresta, PLN, ...)."""

    code: str
    name: str
    short_name: str
    phone: str | None = None
    #: The radio channel or talkgroup the center reaches the agency on (None: not known).
    radio: str | None = None
    #: How a report is forwarded to this agency by default (a Channel value; None: not set).
    channel: str | None = None


#: The agency of an imported report the source says was handled (``ditangani``) without
#: naming by whom. Not in ``agencies.toml``: no operator can forward to it; the
#: statistics count it as "not named" instead of guessing an agency.
NOT_NAMED_AGENCY: Final = "tidak-disebut"
NOT_NAMED: Final = Agency(NOT_NAMED_AGENCY, "Instansi tidak disebut dalam sumber", "tdk disebut")


@dataclass(frozen=True)
class Category:
    """A kind of report, with who handles it, how fast, and what to ask the caller."""

    code: str
    label_id: str
    label_en: str
    kind: str
    hotkey: str
    priority: int
    primary_agencies: tuple[str, ...]
    supporting_agencies: tuple[str, ...]
    forward_target: timedelta
    finish_target: timedelta
    questions_id: tuple[str, ...]
    questions_en: tuple[str, ...]

    @property
    def is_emergency(self) -> bool:
        return self.kind == Kind.DARURAT

    def label(self, lang: str | None = None) -> str:
        """The category's name in ``lang`` (default: the process language)."""
        return self.label_en if _language(lang) == "en" else self.label_id

    def questions(self, lang: str | None = None) -> tuple[str, ...]:
        """The call taker's questions in ``lang``, most important first."""
        return self.questions_en if _language(lang) == "en" else self.questions_id


@dataclass(frozen=True)
class Kecamatan:
    code: str
    name: str


@dataclass(frozen=True)
class Kelurahan:
    code: str
    name: str
    kecamatan: Kecamatan
    aliases: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        """Name with its kecamatan: kelurahan Bunaken is not kecamatan Bunaken."""
        return f"{self.name} ({self.kecamatan.name})"


# --- Matching place names -----------------------------------------------------------


def plain_text(text: str) -> str:
    """Lowercase words separated by single spaces, punctuation dropped."""
    return " ".join(re.sub(r"[\W_]+", " ", text.casefold()).split())


def normalise_name(text: str) -> str:
    """``plain_text`` with number words as digits: "Paal IV" and "PAAL-4" give "paal 4"."""
    return " ".join(_NUMBER_WORDS.get(word, word) for word in plain_text(text).split())


def _compact(text: str) -> str:
    """The identity of a name: normalised, spaces removed ("Alungbanua" = "Alung Banua")."""
    return normalise_name(text).replace(" ", "")


@dataclass(frozen=True)
class _Form:
    """One spelling of a place (its name or an alias) in the three shapes we compare."""

    plain: str
    norm: str
    compact: str
    is_alias: bool = False

    @classmethod
    def of(cls, text: str, is_alias: bool = False) -> _Form:
        return cls(plain_text(text), normalise_name(text), _compact(text), is_alias)

    def starts_with(self, query: _Form) -> bool:
        # The plain shape matters while typing: "Paal I" is on its way to "Paal IV".
        return (
            self.norm.startswith(query.norm)
            or self.plain.startswith(query.plain)
            or self.compact.startswith(query.compact)
        )

    def has_word_starting(self, query: _Form) -> bool:
        return f" {query.norm}" in f" {self.norm}" or f" {query.plain}" in f" {self.plain}"


def _split_qualifier(text: str) -> tuple[str, str | None]:
    """Split "Bunaken, Bunaken Kepulauan" or "Bunaken (Bunaken Kepulauan" in two."""
    match = re.fullmatch(r"(.*?)\s*[,(]\s*([^,()]*?)\s*\)?\s*", text)
    if match is None or not plain_text(match.group(2)):
        return text, None
    return match.group(1), match.group(2)


def _without_leading(norm: str, words: frozenset[str]) -> str:
    """Drop a leading "kelurahan"/"kel." or "kecamatan"/"kec." that callers add."""
    first, _, rest = norm.partition(" ")
    return rest if first in words and rest else norm


# --- The catalogue ------------------------------------------------------------------


class Catalogue:
    """Categories, agencies and places, with the lookups the console needs."""

    def __init__(
        self,
        categories: Iterable[Category],
        agencies: Iterable[Agency],
        kelurahan: Iterable[Kelurahan],
        *,
        city_code: str = "71.71",
        city_name: str = "Kota Manado",
    ) -> None:
        self.categories: tuple[Category, ...] = tuple(categories)
        self.agencies: tuple[Agency, ...] = tuple(agencies)
        self.kelurahan: tuple[Kelurahan, ...] = tuple(kelurahan)
        self.kecamatan: tuple[Kecamatan, ...] = tuple(
            dict.fromkeys(k.kecamatan for k in self.kelurahan)
        )
        self.city_code = city_code
        self.city_name = city_name
        self._categories = {c.code: c for c in self.categories}
        self._hotkeys = {c.hotkey: c for c in self.categories}
        self._agencies = {a.code: a for a in self.agencies}
        self._kelurahan_codes = {k.code: k for k in self.kelurahan}
        self._kecamatan_codes = {k.code: k for k in self.kecamatan}
        self._kecamatan_names = {_compact(k.name): k for k in self.kecamatan}
        self._forms = {
            k: (_Form.of(k.name), *(_Form.of(alias, True) for alias in k.aliases))
            for k in self.kelurahan
        }
        # The loader guarantees that no two kelurahan share a compact name or alias.
        self._by_compact = {form.compact: k for k, forms in self._forms.items() for form in forms}
        self._fuzzy_forms: list[tuple[str, Kelurahan]] | None = None

    # Categories and agencies

    def category(self, code: str) -> Category:
        try:
            return self._categories[code]
        except KeyError:
            raise NotFound("category_unknown", value=code) from None

    def category_by_hotkey(self, key: str) -> Category | None:
        """The category a key picks, or None: most keys pick nothing."""
        return self._hotkeys.get(key.lower()) if len(key) == 1 else None

    def agency(self, code: str) -> Agency:
        """An agency by code; ``NOT_NAMED_AGENCY`` gives ``NOT_NAMED`` (imported history)."""
        try:
            return self._agencies[code]
        except KeyError:
            if code == NOT_NAMED_AGENCY:
                return NOT_NAMED
            raise NotFound("agency_unknown", value=code) from None

    def agencies_for(self, category: Category | str) -> tuple[Agency, ...]:
        """Every agency, the category's primary ones first, then its supporting ones."""
        if isinstance(category, str):
            category = self.category(category)
        first = (*category.primary_agencies, *category.supporting_agencies)
        rest = (a.code for a in self.agencies if a.code not in first)
        return tuple(self._agencies[code] for code in (*first, *rest))

    # Places

    def kecamatan_by_code(self, code: str) -> Kecamatan:
        try:
            return self._kecamatan_codes[code]
        except KeyError:
            raise NotFound("kecamatan_code_unknown", value=code) from None

    def kelurahan_by_code(self, code: str) -> Kelurahan:
        try:
            return self._kelurahan_codes[code]
        except KeyError:
            raise NotFound("kelurahan_code_unknown", value=code) from None

    def kelurahan_in(self, kecamatan: Kecamatan | str) -> tuple[Kelurahan, ...]:
        """The kelurahan of a kecamatan (given itself or its code), in the file's order."""
        code = kecamatan if isinstance(kecamatan, str) else kecamatan.code
        return tuple(k for k in self.kelurahan if k.kecamatan.code == code)

    def resolve_kelurahan(self, text: str) -> Kelurahan:
        """The one kelurahan ``text`` means, or a ``ValidationError`` on field "kelurahan".

        Accepts a name or alias ("paal 4", "Tumumpa I"), a code ("71.71.10.1001"), or a
        name with its kecamatan ("Bunaken, Bunaken Kepulauan" / "Bunaken (Bunaken
        Kepulauan)"). Never guesses from a prefix: "Tumumpa" asks which one.
        """
        value = (text or "").strip()
        if len(value) > _LONGEST_PLACE_TEXT:
            raise self._unknown(value, [])
        if not plain_text(value):
            raise ValidationError("kelurahan", "kelurahan_required")
        code_match = _KELURAHAN_CODE_TEXT.fullmatch(value)
        if code_match:
            return self._resolve_code(value, ".".join(code_match.groups()))
        name_text, kecamatan_text = _split_qualifier(value)
        name = _without_leading(normalise_name(name_text), _KELURAHAN_WORDS)
        if kecamatan_text is not None:
            kecamatan_name = _without_leading(normalise_name(kecamatan_text), _KECAMATAN_WORDS)
            if kecamatan_name not in _CITY_NAMES:
                return self._resolve_in_kecamatan(value, name, kecamatan_name)
        return self._resolve_name(value, name)

    def complete_kelurahan(self, text: str, limit: int = 8) -> list[Kelurahan]:
        """Kelurahan ``text`` may be the start of, best first; [] for empty text.

        Best is: the exact name or alias, then names starting with the text, then
        aliases starting with it, then a later word starting with it, then the text
        inside a name, then the kelurahan of a kecamatan whose name matches.
        """
        value = text.strip()
        if limit <= 0 or len(value) > _LONGEST_PLACE_TEXT or not plain_text(value):
            return []
        if re.fullmatch(r"\d[\d.]*", value):
            digits = value.replace(".", "")
            matches = [k for k in self.kelurahan if k.code.replace(".", "").startswith(digits)]
            return matches[:limit]
        name_text, kecamatan_text = _split_qualifier(value)
        # Built from the plain words so that a half-typed "Paal I" still finds "Paal IV".
        query = _Form.of(_without_leading(plain_text(name_text), _KELURAHAN_WORDS))
        within = self._kecamatan_starting(kecamatan_text) if kecamatan_text else None
        ranked: list[tuple[int, int, Kelurahan]] = []
        for order, kelurahan in enumerate(self.kelurahan):
            if within is not None and kelurahan.kecamatan not in within:
                continue
            rank = self._completion_rank(kelurahan, query)
            if rank is not None:
                ranked.append((rank, order, kelurahan))
        ranked.sort(key=lambda item: item[:2])
        return [kelurahan for _, _, kelurahan in ranked[:limit]]

    def suggest_kelurahan(self, text: str, limit: int = 3) -> list[Kelurahan]:
        """What to offer under the kelurahan field: completions first, then near misses.

        Completions are ``complete_kelurahan``; when they leave room, names and aliases
        spelled close to the text ("tikla baru", "ternate tj") follow, closest first
        (rapidfuzz's weighted ratio, at least ``FUZZY_CUTOFF``). Only offered: the
        operator's key takes one.
        """
        found = self.complete_kelurahan(text, limit=limit)
        query = normalise_name(text)
        if len(found) >= limit or len(query) < FUZZY_MIN_LENGTH or len(text) > _LONGEST_PLACE_TEXT:
            return found
        from rapidfuzz import fuzz, process  # imported on first use: the queue never needs it

        if self._fuzzy_forms is None:
            self._fuzzy_forms = [
                (form.norm, k) for k, forms in self._forms.items() for form in forms
            ]
        forms = self._fuzzy_forms
        close = process.extract(
            query,
            [norm for norm, _ in forms],
            scorer=fuzz.WRatio,
            score_cutoff=FUZZY_CUTOFF,
            limit=limit * 4,
        )
        # Best score first; on a tie the catalogue's order (process.extract keeps it).
        for _, _, index in sorted(close, key=lambda match: (-match[1], match[2])):
            kelurahan = forms[index][1]
            if kelurahan not in found:
                found.append(kelurahan)
            if len(found) >= limit:
                break
        return found

    # Resolution, step by step

    def _resolve_code(self, value: str, code: str) -> Kelurahan:
        found = self._kelurahan_codes.get(code)
        if found is not None:
            return found
        same_kecamatan = [k for k in self.kelurahan if k.code.startswith(code[:8])]
        raise self._unknown(value, same_kecamatan)

    def _resolve_in_kecamatan(self, value: str, name: str, kecamatan_name: str) -> Kelurahan:
        kecamatan = self._kecamatan_names.get(kecamatan_name.replace(" ", ""))
        if kecamatan is None:
            raise self._unknown(value, self._suggestions(name))
        found = self._by_compact.get(name.replace(" ", ""))
        if found is not None and found.kecamatan == kecamatan:
            return found
        starting = [k for k in self._starting_with_word(name) if k.kecamatan == kecamatan]
        if len(starting) > 1:
            raise self._ambiguous(value, starting)
        # The same name in another kecamatan is the likeliest thing they meant.
        elsewhere = [found] if found is not None else []
        in_kecamatan = self._suggestions(name, among=self.kelurahan_in(kecamatan))
        raise self._unknown(value, [*elsewhere, *starting, *in_kecamatan])

    def _resolve_name(self, value: str, name: str) -> Kelurahan:
        found = self._by_compact.get(name.replace(" ", ""))
        kecamatan = self._kecamatan_names.get(name.replace(" ", ""))
        if found is not None:
            # "Bunaken" is a kelurahan of Bunaken Kepulauan and a mainland kecamatan.
            if kecamatan is not None and kecamatan != found.kecamatan:
                raise self._ambiguous(value, [found, *self.kelurahan_in(kecamatan)])
            return found
        starting = self._starting_with_word(name)
        if kecamatan is not None:
            raise self._ambiguous(value, [*starting, *self.kelurahan_in(kecamatan)])
        if len(starting) > 1:
            raise self._ambiguous(value, starting)
        raise self._unknown(value, [*starting, *self._suggestions(name)])

    def _starting_with_word(self, name: str) -> list[Kelurahan]:
        """Kelurahan whose name or alias begins with the whole words of ``name``."""
        prefix = f"{name} "
        return [
            kelurahan
            for kelurahan, forms in self._forms.items()
            if any(form.norm.startswith(prefix) for form in forms)
        ]

    def _suggestions(self, name: str, among: Iterable[Kelurahan] | None = None) -> list[Kelurahan]:
        """Close spellings by difflib; failing that, what completion would offer."""
        pool = self.kelurahan if among is None else tuple(among)
        owners = {form.norm: k for k in pool for form in self._forms[k]}
        close = difflib.get_close_matches(name, owners, n=10, cutoff=0.6)
        found = [owners[match] for match in close]
        if not found:
            found = [k for k in self.complete_kelurahan(name, limit=3) if k in pool]
        return found

    def _unknown(self, value: str, suggestions: Iterable[Kelurahan]) -> ValidationError:
        """Unknown, with up to three kelurahan they may have meant; with none close,
        it says plainly that nothing matches (never an empty "did you mean")."""
        shown = list(dict.fromkeys(suggestions))[:3]
        if not shown:
            return ValidationError("kelurahan", "kelurahan_no_match", value=value, codes=())
        return ValidationError(
            "kelurahan",
            "kelurahan_unknown",
            value=value,
            suggestions=", ".join(k.display for k in shown),
            codes=tuple(k.code for k in shown),
        )

    def _ambiguous(self, value: str, candidates: Iterable[Kelurahan]) -> ValidationError:
        every = list(dict.fromkeys(candidates))
        listed = ", ".join(k.display for k in every[:_CANDIDATES_SHOWN])
        if len(every) > _CANDIDATES_SHOWN:
            listed += ", …"
        return ValidationError(
            "kelurahan",
            "kelurahan_ambiguous",
            value=value,
            candidates=listed,
            example=f"{every[0].name}, {every[0].kecamatan.name}",
            codes=tuple(k.code for k in every),
        )

    # Completion ranks

    def _kecamatan_starting(self, text: str) -> set[Kecamatan]:
        query = _Form.of(_without_leading(plain_text(text), _KECAMATAN_WORDS))
        return {k for k in self.kecamatan if _Form.of(k.name).starts_with(query)}

    def _completion_rank(self, kelurahan: Kelurahan, query: _Form) -> int | None:
        if not query.plain:  # only a kecamatan was typed: "…, Wanea"
            return 0
        ranks = [_form_rank(form, query) for form in self._forms[kelurahan]]
        kecamatan = _Form.of(kelurahan.kecamatan.name)
        if kecamatan.starts_with(query) or kecamatan.has_word_starting(query):
            ranks.append(5)
        known = [rank for rank in ranks if rank is not None]
        return min(known) if known else None


def _form_rank(form: _Form, query: _Form) -> int | None:
    if form.compact == query.compact:
        return 0
    if form.starts_with(query):
        return 2 if form.is_alias else 1
    if form.has_word_starting(query):
        return 3
    if len(query.compact) >= 3 and query.compact in form.compact:
        return 4
    return None


# --- Loading and checking the files -------------------------------------------------


class _Entry:
    """One table of a catalogue file, able to say where it is when something is wrong."""

    def __init__(self, where: str, what: str, table: Any) -> None:
        self.where = where
        self.what = what
        if not isinstance(table, Mapping):
            raise CatalogueError(f"{where}: {what}: must be a table of fields")
        self.table = table

    def fail(self, field: str, problem: str) -> NoReturn:
        raise CatalogueError(f"{self.where}: {self.what}: field '{field}' {problem}")

    def allow_only(self, *fields: str) -> None:
        # A misspelt field would otherwise be ignored silently and its value lost.
        for field in self.table:
            if field not in fields:
                self.fail(field, f"is not known (known fields: {', '.join(fields)})")

    def text(self, field: str, *, optional: bool = False) -> str:
        value = self.table.get(field)
        if value is None and optional:
            return ""
        if value is None:
            self.fail(field, "is missing")
        if not isinstance(value, str):
            self.fail(field, f"must be text in quotes, got {value!r}")
        if not value.strip():
            self.fail(field, "must not be empty")
        return value.strip()

    def code(self, field: str = "code") -> str:
        value = self.text(field)
        if not _CODE.fullmatch(value):
            self.fail(field, f"must be lowercase letters, digits and '-', got {value!r}")
        return value

    def integer(self, field: str, allowed: range) -> int:
        value = self.table.get(field)
        if value is None:
            self.fail(field, "is missing")
        if not isinstance(value, int) or isinstance(value, bool) or value not in allowed:
            self.fail(field, f"must be a whole number {allowed[0]}-{allowed[-1]}, got {value!r}")
        return value

    def texts(self, field: str, count: range | None = None) -> tuple[str, ...]:
        value = self.table.get(field, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(field, f"must be a list of texts in quotes, got {value!r}")
        if count is not None and len(value) not in count:
            self.fail(field, f"must have {count[0]} to {count[-1]} entries, got {len(value)}")
        return tuple(v.strip() for v in value)

    def duration(self, field: str) -> timedelta:
        value = self.text(field)
        match = _DURATION.fullmatch(value.replace(" ", ""))
        if not match or not any(match.groups()):
            self.fail(field, f'must be a duration like "15m", "2h" or "3d", got {value!r}')
        days, hours, minutes = (int(part or 0) for part in match.groups())
        result = timedelta(days=days, hours=hours, minutes=minutes)
        if not result:
            self.fail(field, f"must be longer than zero, got {value!r}")
        return result


def _read_documents(
    folder: Traversable | Path, names: Sequence[str], wheres: Sequence[str]
) -> list[dict[str, Any]]:
    entries = [folder.joinpath(name) for name in names]
    for entry, where in zip(entries, wheres, strict=True):
        if not entry.is_file():
            raise CatalogueError(f"{where}: file is missing")
    try:
        return read_toml_files(entries, wheres)
    except TomlFileError as error:
        raise CatalogueError(str(error)) from None


def _blocks(where: str, document: Mapping[str, Any], key: str) -> list[Any]:
    blocks = document.get(key)
    if not isinstance(blocks, list) or not blocks:
        raise CatalogueError(f"{where}: needs one or more [[{key}]] blocks")
    return blocks


def _claim(
    entry: _Entry, field: str, key: str, owners: dict[str, str], shown: str | None = None
) -> None:
    """Refuse a value (code, hotkey, spelling) that an earlier entry already uses."""
    if key in owners:
        entry.fail(field, f"{shown or repr(key)} is already used by {owners[key]}")
    owners[key] = entry.what


def _read_agencies(where: str, document: Mapping[str, Any]) -> list[Agency]:
    agencies: list[Agency] = []
    codes: dict[str, str] = {}
    for number, table in enumerate(_blocks(where, document, "agency"), start=1):
        entry = _Entry(where, f"agency #{number}", table)
        code = entry.code()
        entry.what = f"agency {code!r}"
        entry.allow_only("code", "name", "short_name", "phone", "radio", "channel")
        _claim(entry, "code", code, codes)
        short_name = entry.text("short_name")
        if len(short_name) > SHORT_NAME_MAX:
            entry.fail(
                "short_name", f"must be at most {SHORT_NAME_MAX} characters, got {short_name!r}"
            )
        phone = entry.text("phone", optional=True) or None
        if phone is not None and not _PHONE.fullmatch(phone):
            entry.fail("phone", f'must be a phone number like "(0431) 864444", got {phone!r}')
        radio = entry.text("radio", optional=True) or None
        channel = entry.text("channel", optional=True) or None
        if channel is not None and channel not in AGENCY_CHANNELS:
            entry.fail("channel", f"must be one of {', '.join(AGENCY_CHANNELS)}, got {channel!r}")
        agencies.append(Agency(code, entry.text("name"), short_name, phone, radio, channel))
    return agencies


#: The ways of forwarding a report (models.Channel's values; the core imports no model).
AGENCY_CHANNELS: Final = ("telepon", "radio", "whatsapp", "aplikasi", "langsung")

_CATEGORY_FIELDS: Final = (
    "code", "label_id", "label_en", "kind", "hotkey", "priority", "primary_agencies",
    "supporting_agencies", "forward_target", "finish_target", "questions_id", "questions_en",
)  # fmt: skip


def _read_categories(
    where: str, document: Mapping[str, Any], agency_codes: set[str]
) -> list[Category]:
    categories: list[Category] = []
    codes: dict[str, str] = {}
    hotkeys: dict[str, str] = {}
    for number, table in enumerate(_blocks(where, document, "category"), start=1):
        entry = _Entry(where, f"category #{number}", table)
        code = entry.code()
        entry.what = f"category {code!r}"
        entry.allow_only(*_CATEGORY_FIELDS)
        _claim(entry, "code", code, codes)
        kind = entry.text("kind")
        if kind not in KINDS:
            entry.fail("kind", f'must be "darurat" or "non_darurat", got {kind!r}')
        hotkey = _read_hotkey(entry)
        _claim(entry, "hotkey", hotkey, hotkeys)
        primary = _read_agency_list(entry, "primary_agencies", agency_codes, required=True)
        supporting = _read_agency_list(entry, "supporting_agencies", agency_codes)
        for agency in set(primary) & set(supporting):
            entry.fail("supporting_agencies", f"repeats {agency!r}, already a primary agency")
        forward, finish = entry.duration("forward_target"), entry.duration("finish_target")
        if forward > finish:
            entry.fail("finish_target", "must not be shorter than forward_target")
        questions_id = entry.texts("questions_id", QUESTION_COUNT)
        questions_en = entry.texts("questions_en", QUESTION_COUNT)
        if len(questions_id) != len(questions_en):
            entry.fail("questions_en", "must have as many questions as questions_id")
        categories.append(
            Category(
                code=code,
                label_id=entry.text("label_id"),
                label_en=entry.text("label_en"),
                kind=kind,
                hotkey=hotkey,
                priority=entry.integer("priority", PRIORITY_RANGE),
                primary_agencies=primary,
                supporting_agencies=supporting,
                forward_target=forward,
                finish_target=finish,
                questions_id=questions_id,
                questions_en=questions_en,
            )
        )
    return categories


def _read_hotkey(entry: _Entry) -> str:
    hotkey = entry.text("hotkey")
    if len(hotkey) != 1:
        entry.fail("hotkey", f"must be one character, got {hotkey!r}")
    if not (hotkey.isdigit() or "a" <= hotkey <= "z"):
        entry.fail("hotkey", f"must be a digit or a lowercase letter, got {hotkey!r}")
    return hotkey


def _read_agency_list(
    entry: _Entry, field: str, agency_codes: set[str], *, required: bool = False
) -> tuple[str, ...]:
    codes = entry.texts(field)
    if required and not codes:
        entry.fail(field, "must name at least one agency")
    for code in codes:
        if code not in agency_codes:
            entry.fail(field, f"names agency {code!r}, which is not in agencies.toml")
    if len(set(codes)) != len(codes):
        entry.fail(field, "names an agency twice")
    return codes


def _read_wilayah(where: str, document: Mapping[str, Any]) -> tuple[str, str, list[Kelurahan]]:
    city = _Entry(where, "[kota]", document.get("kota", {}))
    city_code, city_name = city.text("code"), city.text("name")
    if not re.fullmatch(r"\d{2}\.\d{2}", city_code):
        city.fail("code", f'must look like "71.71", got {city_code!r}')
    kelurahan: list[Kelurahan] = []
    owners: dict[str, dict[str, str]] = {"code": {}, "kecamatan": {}, "spelling": {}}
    for number, table in enumerate(_blocks(where, document, "kecamatan"), start=1):
        entry = _Entry(where, f"kecamatan #{number}", table)
        name = entry.text("name")
        entry.what = f"kecamatan {name!r}"
        entry.allow_only("code", "name", "kelurahan")
        code = entry.text("code")
        if not re.fullmatch(rf"{re.escape(city_code)}\.\d{{2}}", code):
            entry.fail("code", f"must be {city_code!r} plus a dot and two digits, got {code!r}")
        _claim(entry, "code", code, owners["code"])
        _claim(entry, "name", _compact(name), owners["kecamatan"], repr(name))
        kecamatan = Kecamatan(code, name)
        rows = entry.table.get("kelurahan")
        if not isinstance(rows, list) or not rows:
            entry.fail("kelurahan", "must list one or more kelurahan")
        for row_number, row in enumerate(rows, start=1):
            kelurahan.append(_read_kelurahan(entry, row_number, row, kecamatan, owners))
    return city_code, city_name, kelurahan


def _read_kelurahan(
    parent: _Entry, number: int, table: Any, kecamatan: Kecamatan, owners: dict[str, dict[str, str]]
) -> Kelurahan:
    entry = _Entry(parent.where, f"kelurahan #{number} of {parent.what}", table)
    name = entry.text("name")
    entry.what = f"kelurahan {name!r} of {parent.what}"
    entry.allow_only("code", "name", "aliases")
    code = entry.text("code")
    if not re.fullmatch(rf"{re.escape(kecamatan.code)}\.\d{{4}}", code):
        entry.fail("code", f"must be {kecamatan.code!r} plus a dot and four digits, got {code!r}")
    _claim(entry, "code", code, owners["code"])
    aliases = entry.texts("aliases")
    # Two kelurahan answering to one spelling would make resolution a coin toss.
    _claim(entry, "name", _compact(name), owners["spelling"], repr(name))
    for alias in aliases:
        spelling = _compact(alias)
        if owners["spelling"].get(spelling) == entry.what:
            continue  # an alias that only restates the name, e.g. "Paal 4" for "Paal IV"
        _claim(entry, "aliases", spelling, owners["spelling"], f"alias {alias!r}")
    return Kelurahan(code, name, kecamatan, aliases)


def load_catalogue_from(folder: Traversable | Path, *, label: str | None = None) -> Catalogue:
    """Read and check the three catalogue files in ``folder``.

    ``label`` is how error messages name the folder (default: its path), so that a
    mistake in the packaged files reads "data/categories.toml: ...".
    """
    prefix = str(folder) if label is None else label

    names = ("agencies.toml", "categories.toml", "wilayah.toml")
    wheres = [f"{prefix}/{name}" for name in names]
    agencies_doc, categories_doc, wilayah_doc = _read_documents(folder, names, wheres)
    agencies = _read_agencies(wheres[0], agencies_doc)
    categories = _read_categories(wheres[1], categories_doc, {a.code for a in agencies})
    city_code, city_name, kelurahan = _read_wilayah(wheres[2], wilayah_doc)
    return Catalogue(categories, agencies, kelurahan, city_code=city_code, city_name=city_name)


@cache
def load_catalogue() -> Catalogue:
    """The packaged catalogue, read once per process."""
    return load_catalogue_from(DATA_DIR, label="data")
