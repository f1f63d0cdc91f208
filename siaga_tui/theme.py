"""The control-room theme: high contrast, calm, readable across a room at night."""

from __future__ import annotations

from typing import Final

from textual.theme import Theme

CONTROL_ROOM: Final = Theme(
    name="siaga-kontras",
    primary="#FFD700",
    secondary="#00BFFF",
    accent="#FFD700",
    foreground="#FFFFFF",
    background="#000000",
    surface="#0A0A0A",
    panel="#1C1C1C",
    warning="#FFB000",
    error="#FF4040",
    success="#40FF40",
    dark=True,
    variables={
        "footer-key-foreground": "#FFD700",
        "block-cursor-background": "#FFD700",
        "block-cursor-foreground": "#000000",
        "block-cursor-text-style": "bold",
    },
)
