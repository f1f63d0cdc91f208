"""The category's questions for the call taker, shown beside the form."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from siaga_tui.core.catalogue import Category
from siaga_tui.core.i18n import translate


class CallQuestions(Static):
    """Numbered questions of the picked category, most important first."""

    DEFAULT_CSS = """
    CallQuestions {
        height: auto;
        padding: 0 1;
    }
    """

    def show(self, category: Category | None, lang: str) -> None:
        lines = [Content.styled(translate("entry_questions_title", lang), "bold")]
        if category is None:
            lines.append(Content.styled(translate("entry_questions_none", lang), "dim"))
        else:
            lines.extend(
                Content.assemble((f"{n}. ", "bold $accent"), question)
                for n, question in enumerate(category.questions(lang), start=1)
            )
        self.update(Content("\n").join(lines))
