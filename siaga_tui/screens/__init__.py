"""The console's screens: one per file, each a Textual ``Screen`` the app pushes."""
