"""The console's widgets: one per file, each owning one thing on a screen."""
