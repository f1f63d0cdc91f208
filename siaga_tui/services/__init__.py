"""The service layer: every operation the console and the CLI perform.

Imports nothing from Textual (``tests/test_import_hygiene.py`` checks it): the rules
live here once, and the console only displays and dispatches.
"""
