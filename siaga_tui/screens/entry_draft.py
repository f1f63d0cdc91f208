"""What the operator has typed into the quick entry form, as plain data.

Kept apart from the screen (and free of Textual) so a draft can be written to disk
when the terminal closes mid-call and put back into the form later.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from siaga_tui.core.timeutil import as_utc
from siaga_tui.services.reports import NewReport

#: The fields an operator types, in the order of the form.
TEXT_FIELDS = ("phone", "kelurahan", "address", "description", "caller_name")


@dataclass(frozen=True)
class EntryDraft:
    """One call's form: the category picked, the text typed, and when the call began."""

    opened_at: datetime
    category: str | None = None
    phone: str = ""
    kelurahan: str = ""
    address: str = ""
    description: str = ""
    caller_name: str = ""
    #: The phone system's call the form is for (``phone_call.id``), its answer time by
    #: the phone's clock, and the call-back it came from: all filed with the report.
    phone_call_id: int | None = None
    answered_at: datetime | None = None
    callback_id: int | None = None

    @property
    def is_empty(self) -> bool:
        """Nothing picked or typed yet (leaving loses nothing)."""
        return self.category is None and not any(getattr(self, f).strip() for f in TEXT_FIELDS)

    def to_report(self) -> NewReport:
        """The draft as the service's input; the service validates and cleans it."""
        return NewReport(
            category=self.category or "",
            kelurahan=self.kelurahan,
            description=self.description,
            phone=self.phone or None,
            address=self.address,
            caller_name=self.caller_name or None,
            answered_at=self.answered_at or self.opened_at,
            phone_call_id=self.phone_call_id,
            callback_id=self.callback_id,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["opened_at"] = as_utc(self.opened_at).isoformat()
        if self.answered_at is not None:
            data["answered_at"] = as_utc(self.answered_at).isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntryDraft:
        """A draft from ``to_dict`` output; unknown keys are ignored, text kept as str."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["opened_at"] = as_utc(datetime.fromisoformat(str(data["opened_at"])))
        if values.get("answered_at"):
            values["answered_at"] = as_utc(datetime.fromisoformat(str(values["answered_at"])))
        for name in ("phone_call_id", "callback_id"):
            value = values.get(name)
            values[name] = int(value) if isinstance(value, int) else None
        for name in TEXT_FIELDS:
            values[name] = str(values.get(name) or "")
        category = values.get("category")
        values["category"] = str(category) if category else None
        return cls(**values)
