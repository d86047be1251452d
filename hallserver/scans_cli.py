"""`hallserver scans`: the document scans the terminals uploaded. `list --operation ID` shows
an operation's scans (what they are, never what they show); `purge` drops the content of those
kept past the retention period ($HALLSERVER_SCAN_RETENTION_DAYS, counted from the operation's
arrival), keeping the rows as the record that there were scans; audited with the operator as
the actor. Run it daily (a systemd timer or cron, docs/DEPLOY.md)."""

from __future__ import annotations

import argparse
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from hallserver.admin_cli import run_change
from hallserver.cli_support import checked_engine

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hallserver.admin_cli import Command, Parsers


def _list(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from hallserver.scans import scans_of

    engine = checked_engine(args.db)
    if engine is None:
        return 2
    try:
        with Session(engine) as session:
            rows = scans_of(session, args.operation)
    finally:
        engine.dispose()
    if not rows:
        print(f"no scans of operation {args.operation}")
        return 0
    print(f"{'SCAN':<36} {'KIND':<12} {'TYPE':<10} {'BYTES':>8} {'RECEIVED':>8} "
          f"{'KEPT UNTIL (UTC)':<16} STATE")
    for row in rows:
        state = ("purged" if row.purged_at is not None
                 else "complete" if row.complete_at is not None else "uploading")
        print(f"{row.scan_id:<36} {row.kind:<12} {row.media_type:<10} {row.size:>8} "
              f"{row.received:>8} {row.purge_after:%Y-%m-%d %H:%M} {state}")
    return 0


def _purge(args: argparse.Namespace) -> int:
    from hallserver.scans import purge_scans

    def change(session: Session, actor: str, now: datetime) -> str:
        purged = purge_scans(session, actor, now)
        return f"purged the content of {purged} scan(s) past the retention period"

    return run_change(args.db, change)


def _operation_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an operation id (a UUID)") from None


def add_scan_commands(commands: Parsers, command: Command) -> None:
    """`scans …` under `commands`; `command(name, help, under)` makes a subcommand with --db."""
    scans = commands.add_parser("scans", help="the document scans uploaded by the terminals, "
                                              "kept for the retention period")
    under = scans.add_subparsers(dest="scans_command", required=True)
    listing = command("list", "an operation's scans: kind, size, whether complete, kept "
                              "until when", under)
    listing.add_argument("--operation", required=True, type=_operation_id, metavar="ID")
    listing.set_defaults(run=_list)
    command("purge", "drop the content of the scans past the retention period "
                     "($HALLSERVER_SCAN_RETENTION_DAYS); audited with the OS user who runs "
                     "it as the actor", under).set_defaults(run=_purge)
