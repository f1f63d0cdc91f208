"""Siaga 112 console: the call-taking and dispatch console of an emergency call center.

The package is split so that the storage and the rules never depend on the screen:

- ``siaga_tui.core``: catalogue, text and phone rules, data model, database access.
- ``siaga_tui.services``: every operation on calls and reports; imports no Textual.
- ``siaga_tui.cli``: the ``siaga112`` command (Typer).
- ``siaga_tui.app``, ``screens``, ``widgets``: the Textual console.
"""

__version__ = "0.1.0"
