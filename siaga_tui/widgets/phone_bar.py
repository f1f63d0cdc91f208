"""The calls ringing at the center, one line each, on top of every screen.

Each line: the number in national format (or the caller id as given, or "withheld"),
the line it came in on, what the center knows of the number, the repeat-prank warning,
and, for a call ringing on this position's softphone, the key that answers it (F12 on
the call it answers, F11 to choose another when several ring here). Hidden
when nothing rings. Caller text is data: every part is ``Content``, never markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from siaga_tui.core.i18n import translate

if TYPE_CHECKING:
    from siaga_tui.phone_desk import PhoneDesk, PhoneState, RingingCall


class PhoneBar(Static):
    """``☎ BERDERING 0812-3456-7890 · jalur 112 · 2 laporan · ⚠ ISENG BERULANG · F12 angkat``."""

    DEFAULT_CSS = """
    PhoneBar {
        height: auto;
        max-height: 4;
        width: 1fr;
        padding: 0 1;
        background: $warning 30%;
        color: $text;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, desk: PhoneDesk) -> None:
        super().__init__(markup=False)
        self._desk = desk

    def on_mount(self) -> None:
        self._show(self._desk.state)
        self._desk.changed.subscribe(self, self._show)

    def _show(self, state: PhoneState) -> None:
        lang = getattr(self.app, "lang", "id")
        answers = state.to_answer()
        lines = [ringing_line(ring, lang, answers=ring.call is answers) for ring in state.ringing]
        self.display = bool(lines)
        if lines:
            self.update(Content("\n").join(lines))


def ringing_line(ring: RingingCall, lang: str, *, answers: bool = True) -> Content:
    """One call's line; ``answers``: F12 answers it (else, ringing here, F11 chooses it)."""
    call = ring.call
    number = call.number_shown or translate("phone_withheld", lang)
    parts: list[Content | tuple[str, str] | str] = [
        (translate("phone_ringing", lang), "bold reverse"),
        " ",
        (number, "bold"),
    ]
    if call.line:
        parts += ["  ", translate("phone_line", lang, line=call.line)]
    history = ring.history
    if history is not None and history.is_known:
        parts += [
            "  ",
            translate(
                "phone_history",
                lang,
                reports=len(history.reports),
                calls=len(history.calls),
                pranks=history.prank_count,
            ),
        ]
    elif call.caller_phone:
        parts += ["  ", translate("phone_history_none", lang)]
    if history is not None and history.repeat_prank:
        parts += ["  ", (translate("phone_repeat_prank", lang), "bold $error")]
    if ring.here and answers:
        parts += ["  ", (translate("phone_answer_hint", lang), "bold $accent")]
    elif ring.here:
        parts += ["  ", (translate("phone_choose_hint", lang), "$accent")]
    else:
        parts += ["  ", (translate("phone_elsewhere", lang), "italic")]
    return Content.assemble(*parts)
