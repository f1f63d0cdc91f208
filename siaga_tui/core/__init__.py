"""The core: catalogue, text and phone rules, data model and database access (no UI)."""
