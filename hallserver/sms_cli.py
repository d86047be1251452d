"""`hallserver sms`: the customer SMS left to the operator. `unconfirmed` lists those handed to
the gateway whose answer never came, nor any delivery report within the window; `resend`
puts one back in the queue (the customer may then get it twice: the operator decides, after
asking the gateway's support with the listed time and reference). Audited with the operator
as the actor."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

from hallcore.domain.masking import mask_phone
from hallserver.admin_cli import run_change
from hallserver.cli_support import checked_engine
from hallserver.notifications import REFERENCE_MODULO

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hallserver.admin_cli import Command, Parsers


def _unconfirmed(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from hallserver.notifications import unconfirmed

    engine = checked_engine(args.db)
    if engine is None:
        return 2
    try:
        with Session(engine) as session:
            rows = unconfirmed(session)
    finally:
        engine.dispose()
    if not rows:
        print("no unconfirmed SMS")
        return 0
    print(f"{'ID':>8} {'HANDED OVER (UTC)':<17} {'PHONE':<12} {'REF':>5} {'NOTICE':<10} "
          f"{'OPERATION':<24} LAST ERROR")
    for row in rows:
        at = row.submitted_at.strftime("%Y-%m-%d %H:%M") if row.submitted_at else "-"
        print(f"{row.id:>8} {at:<17} {mask_phone(row.phone):<12} "
              f"{row.id % REFERENCE_MODULO:>5} {row.notice:<10} {row.operation_id:<24} "
              f"{row.last_error or '-'}")
    print(f"{len(rows)} unconfirmed: each may have reached the customer. `hallserver sms "
          "resend ID` sends one again (the customer may get it twice)")
    return 0


def _resend(args: argparse.Namespace) -> int:
    from hallserver.notifications import resend

    def change(session: Session, actor: str, now: datetime) -> str:
        for notification_id in args.ids:
            resend(session, notification_id, actor, now)
        return f"queued again: {', '.join(map(str, args.ids))} (recorded as {actor})"

    return run_change(args.db, change)


def _message_id(text: str) -> int:
    """An SMS's number as `sms unconfirmed` lists it (the database's 32-bit id)."""
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise argparse.ArgumentTypeError(f"'{text}' is not the number of an SMS")
    return int(text)


def add_sms_commands(commands: Parsers, command: Command) -> None:
    """`sms …` under `commands`; `command(name, help, under)` makes a subcommand with --db."""
    sms = commands.add_parser("sms", help="customer SMS handed to the gateway without an "
                                          "answer, left to the operator")
    under = sms.add_subparsers(dest="sms_command", required=True)
    command("unconfirmed", "the SMS whose answer and delivery report never came: they may "
                           "have reached the customer", under).set_defaults(run=_unconfirmed)
    again = command("resend", "send unconfirmed SMS again, as the operator decides (audited; "
                              "the customer may get them twice); exit 2 and nothing changed "
                              "when one is not unconfirmed", under)
    again.add_argument("ids", metavar="ID", type=_message_id, nargs="+")
    again.set_defaults(run=_resend)
