"""``siaga112 tui``: start the operator console."""

from __future__ import annotations

import gc

import typer

from siaga_tui.cli.base import app, fail, settings, t


@app.command("tui")
def tui(
    demo: bool = typer.Option(
        False, "--demo", help="Fill an empty database with the 2019 demo data first."
    ),
    backlog_days: int = typer.Option(
        7,
        "--backlog-days",
        min=1,
        max=3650,
        envvar="SIAGA112_BACKLOG_DAYS",
        help="Open reports filed more than this many days ago form the backlog (key b), apart from today's work.",
    ),
    bell: bool = typer.Option(
        True,
        "--bell/--no-bell",
        envvar="SIAGA112_BELL",
        help="Ring the terminal bell once for each report that becomes alarmed (!!).",
    ),
    phone: str | None = typer.Option(
        None,
        "--phone",
        envvar="SIAGA112_PHONE",
        help="This position's softphone: baresip://HOST:PORT (its ctrl_tcp module), "
        "optionally ?dial=sip:{number}@PBX for call-backs.",
    ),
) -> None:
    """Start the operator console (queue, quick entry F2, status board F4, help F1)."""
    address = None
    if phone:
        from siaga_tui.core.errors import ValidationError
        from siaga_tui.services.baresip import parse_phone_address

        try:
            address = parse_phone_address(phone)
        except ValidationError as error:
            raise fail(error.describe()) from None
    db = settings.database()
    if demo:
        from siaga_tui.services.demo import ensure_demo_data

        ensure_demo_data(db, writing=lambda: print(t("demo_writing", db=db.describe()), flush=True))
    from siaga_tui.app import make_app

    # What is loaded by now (the modules, the models, the catalogue) lives as long as the
    # console: kept out of the collector's full passes, which scanned all of it again as
    # the queue painted (B1 at 1 M: 1.60 s -> 1.47 s of CPU to the first paint, medians
    # of 15 interleaved starts; the minimal app it is compared with pays the same pass).
    gc.freeze()
    console = make_app(
        db,
        operator=settings.operator_name,
        lang=settings.lang,
        backlog_days=backlog_days,
        bell=bell,
        phone=address,
    )
    console.freeze_after_start = True  # and what the start-up built, once it is over
    console.run()
