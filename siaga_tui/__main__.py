"""``python -m siaga_tui`` does what the ``siaga112`` command does."""

from siaga_tui.cli import main

if __name__ == "__main__":
    main()
