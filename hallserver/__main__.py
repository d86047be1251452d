"""`hallserver` / `python -m hallserver`: serve, migrate, seed, notify, report, audit verify,
terminals list/approve/retire, database restored."""

from __future__ import annotations

import argparse
import os
import ssl
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hallcore import __version__
from hallcore.extras import missing_server_modules
from hallserver.admin_cli import add_admin_commands
from hallserver.calendar_cli import add_calendar_commands
from hallserver.cli_support import checked_engine, operator
from hallserver.db import DB_ENV, SMS_LOG_ENV, database_url
from hallserver.glance import GLANCE_CONNECTIONS
from hallserver.kpi import Grouping

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from hallserver.settings import ServerSettings


def _cmd_migrate(args: argparse.Namespace) -> int:
    from hallserver.db import SERVER_SCHEMA, make_engine

    SERVER_SCHEMA.upgrade(make_engine(args.db))
    print(f"database at schema {SERVER_SCHEMA.head()}")
    return 0


# `serve`'s options that are settings (hallserver/settings.py): one given overrides its
# environment variable, which is set to it for the workers.
_SERVE_SETTINGS = ("pool_size", "max_overflow", "prepared_statements", "forwarded_allow_ips",
                   "metrics_allow", "log_format", "log_level")
# How long a stopping server lets its requests finish (a push takes well under a second).
SHUTDOWN_GRACE_SECONDS = 10


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from hallserver.db import connection_limit
    from hallserver.logs import logging_config
    from hallserver.settings import SettingsError, env_names, load_settings

    for name in _SERVE_SETTINGS:
        if getattr(args, name) is not None:
            os.environ[env_names(name)[0]] = str(getattr(args, name))
    try:
        settings = load_settings()
    except SettingsError as exc:
        option = f" (--{exc.field.replace('_', '-')})" if exc.field in _SERVE_SETTINGS else ""
        print(f"hallserver: {exc.env}={exc.value!r}{option}: {exc.problem}", file=sys.stderr)
        return 2
    problem = _tls_problem(args.tls_cert, args.tls_key)
    if problem:
        print(f"hallserver: {problem}", file=sys.stderr)
        return 2
    _empty_metrics_dir()
    engine = checked_engine(args.db)
    if engine is None:
        return 2
    try:
        limit = connection_limit(engine)
        replica_problem = _replica_problem(settings, engine)
    except SettingsError as exc:
        print(f"hallserver: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    if replica_problem:
        print(f"hallserver: warning: {replica_problem}; the reads go to the database itself "
              "until it serves", file=sys.stderr)
    wanted = args.workers * (settings.pool_size + settings.max_overflow + GLANCE_CONNECTIONS)
    if limit is not None and wanted > limit:
        problem = (f"{args.workers} worker(s) × (pool size {settings.pool_size} + max overflow "
                   f"{settings.max_overflow} + {GLANCE_CONNECTIONS} for plain pulls) = {wanted} "
                   "database connections, more than the "
                   f"{limit} the database allows (max_connections less "
                   "superuser_reserved_connections)")
        if settings.prepared_statements:
            print(f"hallserver: {problem}: lower --pool-size, --max-overflow or --workers, or "
                  "raise max_connections", file=sys.stderr)
            return 2
        # No prepared statements: most likely PgBouncer, whose own pool is what PostgreSQL
        # sees.
        print(f"hallserver: warning: {problem}; behind PgBouncer these are connections to "
              "PgBouncer: its max_client_conn must allow them", file=sys.stderr)
    os.environ[DB_ENV] = args.db
    if args.sms_log:
        os.environ[SMS_LOG_ENV] = str(args.sms_log)
    # The access line is HallServer's own (hallserver/logs.py), with the request id; the
    # forwarded address is the app's to take, after it decided whether to trust the proxy.
    uvicorn.run("hallserver.asgi:app_from_environment", factory=True, host=args.host,
                port=args.port, workers=args.workers, log_level=settings.log_level,
                log_config=logging_config(settings.log_format, settings.log_level),
                access_log=False, proxy_headers=False,
                ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key,
                # Streams of changes last minutes: a stopping server ends them (the
                # terminals ask another) rather than waiting for them.
                timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS)
    return 0


def _replica_problem(settings: ServerSettings, engine: Engine) -> str | None:
    """Why HALLSERVER_REPLICA_DB's replica cannot serve (not answering, not a replica, of
    another database); None when it can, or none is set: a lag needs the checks of a running
    server to be measured. SettingsError for a replica of a database not on PostgreSQL."""
    from hallserver.replica import LAGGING, replica_from_settings

    replica = replica_from_settings(settings, engine)
    if replica is None:
        return None
    try:
        problem = replica.check().problem
        return None if problem == LAGGING else problem
    finally:
        replica.engine.dispose()


def _empty_metrics_dir() -> None:
    """The metrics of the previous run out of PROMETHEUS_MULTIPROC_DIR (hallserver/metrics.py):
    before any process of this one writes there."""
    from hallserver.settings import MULTIPROC_ENV

    if os.environ.get(MULTIPROC_ENV):
        directory = Path(os.environ[MULTIPROC_ENV])
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()


def _tls_problem(cert: Path | None, key: Path | None) -> str | None:
    """Why the server cannot serve TLS with these files; None when it can, or TLS is off."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        return "--tls-cert and --tls-key go together"
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        return f"the TLS certificate {cert} and key {key} cannot be used ({exc})"
    return None


def _cmd_seed(args: argparse.Namespace) -> int:
    from hallserver.db import SchemaMismatch, check_schema, make_engine
    from hallserver.seed import DEMO_CLERK_PASSWORD, DEMO_SUPERVISOR_PASSWORD, seed

    engine = make_engine(args.db)
    try:
        check_schema(engine)
    except SchemaMismatch as exc:
        print(f"hallserver: {exc}", file=sys.stderr)
        return 2
    try:
        summary = seed(engine, accounts=args.accounts, halls=args.halls, seed=args.seed,
                       progress=lambda n: print(f"\r{n:,} accounts", end="", flush=True))
    except ValueError as exc:
        print(f"\nhallserver: {exc}", file=sys.stderr)
        return 2
    print(f"\nseeded {summary.accounts:,} accounts, {summary.communities:,} communities, "
          f"{summary.halls} halls, {summary.clerks} clerks in {summary.seconds:.1f} s")
    print(f"demo logins: <hall id>-c1 / {DEMO_CLERK_PASSWORD}, "
          f"<hall id>-s1 / {DEMO_SUPERVISOR_PASSWORD} (e.g. gz-th-01-c1 at hall GZ-TH-01)")
    return 0


def _cmd_notify(args: argparse.Namespace) -> int:
    from hallserver.db import make_engine
    from hallserver.notifications import deliver_due
    from hallserver.settings import SettingsError, load_settings
    from hallserver.sms_delivery import open_delivery

    engine = make_engine(args.db)
    try:
        delivery = open_delivery(engine, load_settings(), args.sms_log)
    except SettingsError as exc:
        print(f"hallserver: {exc}", file=sys.stderr)
        return 2
    try:
        problem = delivery.problem()
        if problem and args.once:
            print(f"hallserver: {problem}; nothing was sent, the messages wait",
                  file=sys.stderr)
            return 1
        if problem:
            print(f"hallserver: {problem}; the messages wait and it is tried again",
                  file=sys.stderr)
        while True:
            sent, failed = deliver_due(engine, delivery.gateway, policy=delivery.policy)
            if args.once:
                print(f"sent {sent}, failed {failed}")
                return 0 if failed == 0 else 1
            time.sleep(args.interval)
    finally:
        delivery.close()


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from hallserver.audit import verify_audit
    from hallserver.db import SchemaMismatch, check_schema, make_engine

    try:
        engine = make_engine(args.db)
    except SQLAlchemyError as exc:
        print(f"hallserver: {exc}", file=sys.stderr)
        return 2
    try:
        check_schema(engine)
        reports = verify_audit(engine)
    except (SchemaMismatch, SQLAlchemyError) as exc:
        print(f"hallserver: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    for report in reports:
        if report.broken is None:
            print(f"{report.chain}: {report.entries} entries, intact")
        else:
            where = ("its head row" if report.broken.entry_id is None
                     else f"entry {report.broken.entry_id}")
            print(f"{report.chain}: {report.entries} entries, BROKEN at {where}: "
                  f"{report.broken.problem}")
    if not reports:
        print("no audit entries yet")
    return 1 if any(r.broken for r in reports) else 0


def _cmd_terminals_list(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from hallserver.models import HallRow
    from hallserver.terminals import list_terminals

    engine = checked_engine(args.db)
    if engine is None:
        return 2
    try:
        with Session(engine) as session:
            if args.hall is not None and session.get(HallRow, args.hall) is None:
                print(f"hallserver: there is no hall {args.hall}", file=sys.stderr)
                return 2
            terminals = list_terminals(session, args.hall)
    finally:
        engine.dispose()
    if not terminals:
        print("no terminals yet" + (f" at hall {args.hall}" if args.hall else ""))
        return 0
    print(f"{'HALL':<12} {'TERMINAL':<10} {'STATE':<18} {'PENDING SINCE (UTC)':<20} "
          "LAST RECEIPT")
    for t in terminals:
        since = t.pending_since.strftime("%Y-%m-%d %H:%M") if t.pending_since else "-"
        # An approved terminal with a new installation (another PC) waiting to replace it.
        state = f"{t.state} (+pending)" if t.pending_since and t.state != "pending" else t.state
        print(f"{t.hall_id:<12} {t.terminal_id:<10} {state:<18} {since:<20} "
              f"{t.last_receipt_no or '-'}")
    return 0


def _terminal_problem(session: Session, hall_id: str, terminal_id: str) -> str | None:
    """Why HALL TERMINAL names no terminal the server knows; None when it does."""
    from hallserver.models import HallRow, TerminalRow

    if session.get(HallRow, hall_id) is None:
        return f"there is no hall {hall_id}"
    if session.get(TerminalRow, (hall_id, terminal_id)) is None:
        return (f"hall {hall_id} has no terminal {terminal_id} (a terminal is known once it "
                "has tried to log in; `hallserver terminals list` shows them)")
    return None


def _cmd_terminals_change(args: argparse.Namespace) -> int:
    """`terminals approve` and `terminals retire`: one transaction, audited; nothing changes
    when refused."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from hallserver.models import TerminalKeyRow
    from hallserver.terminals import RETIRED, TerminalRefused, approve_pending
    from hallserver.terminals import retire as retire_terminal

    engine = checked_engine(args.db)
    if engine is None:
        return 2
    actor, now = operator(), datetime.now(UTC)
    try:
        with Session(engine) as session, session.begin():
            problem = _terminal_problem(session, args.hall, args.terminal)
            if problem is not None:
                print(f"hallserver: {problem}", file=sys.stderr)
                return 2
            if args.terminals_command == "approve":
                try:
                    fingerprint = approve_pending(session, args.hall, args.terminal, actor, now)
                except TerminalRefused as refused:
                    print(f"hallserver: {refused.reason.en}", file=sys.stderr)
                    return 1
                done = (f"approved terminal {args.terminal} of hall {args.hall} (key "
                        f"{fingerprint}…), as {actor}; its next login is let in")
            else:
                unretired = session.scalar(select(func.count()).select_from(TerminalKeyRow)
                                           .where(TerminalKeyRow.hall_id == args.hall,
                                                  TerminalKeyRow.terminal_id == args.terminal,
                                                  TerminalKeyRow.state != RETIRED))
                if not unretired:
                    print(f"hallserver: terminal {args.terminal} of hall {args.hall} has no "
                          "key to retire (already retired)", file=sys.stderr)
                    return 1
                keys = retire_terminal(session, args.hall, args.terminal, actor, now)
                done = (f"retired terminal {args.terminal} of hall {args.hall} ({keys} "
                        f"key{'s' if keys != 1 else ''}), as {actor}: it can no longer log in "
                        "or sync, and its sessions end now")
    finally:
        engine.dispose()
    print(done)
    return 0


def _cmd_database_restored(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from hallserver.audit import append_audit
    from hallserver.identity import database_identity, mark_restored

    engine = checked_engine(args.db)
    if engine is None:
        return 2
    actor = operator()
    try:
        with Session(engine) as session, session.begin():
            before = database_identity(session)
            identity = mark_restored(session)
            append_audit(session, hall_id=None, terminal_id="", actor=actor,
                         action="database_restored", subject=None,
                         detail={"identity": {"from": before, "to": identity}})
    finally:
        engine.dispose()
    print(f"database identity is now {identity} (recorded as {actor})")
    print("the terminals will push again what the server lost: each sees the new identity "
          "at its next pull and sends again what it had sent since the backup (what the "
          "server still holds is answered as a duplicate)")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from hallserver.db import SchemaMismatch, check_schema, make_engine
    from hallserver.kpi import (
        hours_table,
        in_hall_time,
        report,
        table,
        write_csv,
        write_hours_csv,
    )

    since, until = (in_hall_time(datetime.combine(day, datetime.min.time()))
                    for day in (args.since, args.until))
    if since >= until:
        print("hallserver: --until must be after --since (the period is [since, until))",
              file=sys.stderr)
        return 2
    engine = make_engine(args.db)
    try:
        check_schema(engine)
        with Session(engine) as session:
            kpi = report(session, since, until, args.by)
    except SchemaMismatch as exc:
        print(f"hallserver: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    if args.csv:
        try:
            (write_hours_csv if args.hours else write_csv)(kpi, args.csv)
        except OSError as exc:
            print(f"hallserver: cannot write {args.csv}: {exc.strerror}", file=sys.stderr)
            return 2
        print(f"{len(kpi.hours)} rows by hall and hour written to {args.csv}" if args.hours
              else f"{len(kpi.rows)} rows and the total written to {args.csv}")
    else:
        print(hours_table(kpi) if args.hours else table(kpi))
    return 0


def _report_day(text: str) -> date:
    """A day of a report's period: one the database can hold (years 2000 to 2100)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a date YYYY-MM-DD") from None
    if not 2000 <= day.year <= 2100:
        raise argparse.ArgumentTypeError("a day from 2000 to 2100")
    return day


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hallserver", description="HallServer, the central server the halls sync with.")
    parser.add_argument("--version", action="version", version=f"HallServer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str,
                under: argparse._SubParsersAction[argparse.ArgumentParser] = commands
                ) -> argparse.ArgumentParser:
        sub = under.add_parser(name, help=help_text)
        sub.add_argument("--db", default=database_url(),
                         help=f"SQLAlchemy URL (default ${DB_ENV} or a SQLite file in the user "
                              "data directory), e.g. postgresql+psycopg://user@host/db")
        return sub

    command("migrate", "apply the database migrations").set_defaults(run=_cmd_migrate)
    serve = command("serve", "serve the API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8600)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--sms-log", type=Path, help="deliver customer SMS into this log file")
    serve.add_argument("--tls-cert", type=Path,
                       help="serve HTTPS with this certificate (PEM, the chain after it)")
    serve.add_argument("--tls-key", type=Path, help="the certificate's private key (PEM)")
    serve.add_argument("--pool-size", type=int,
                       help="database connections each worker keeps open "
                            "(default $HALLSERVER_POOL_SIZE or 5)")
    serve.add_argument("--max-overflow", type=int,
                       help="connections each worker may open beyond those under load "
                            "(default $HALLSERVER_MAX_OVERFLOW or 10)")
    serve.add_argument("--prepared-statements", action=argparse.BooleanOptionalAction,
                       help="--no-prepared-statements behind PgBouncer's transaction pooling "
                            "(default $HALLSERVER_PREPARED_STATEMENTS or on)")
    serve.add_argument("--forwarded-allow-ips", metavar="ADDRESSES",
                       help="the reverse proxies whose X-Forwarded-For (the client address "
                            "the login throttle counts) and X-Request-ID are believed: "
                            "addresses or networks separated by commas, or * "
                            "(default $HALLSERVER_FORWARDED_ALLOW_IPS or 127.0.0.1,::1)")
    serve.add_argument("--metrics-allow", metavar="NETWORKS",
                       help="who may read /metrics, the same way; empty: nobody (default "
                            "$HALLSERVER_METRICS_ALLOW or the loopback and private networks)")
    serve.add_argument("--log-format", metavar="text|json",
                       help="json: one object a line (default $HALLSERVER_LOG_FORMAT or text)")
    serve.add_argument("--log-level", metavar="debug|info|warning|error",
                       help="default $HALLSERVER_LOG_LEVEL or info")
    serve.set_defaults(run=_cmd_serve)
    seed = command("seed", "fill an empty database with realistic demo data")
    seed.add_argument("--accounts", type=int, required=True)
    seed.add_argument("--halls", type=int, default=2)
    seed.add_argument("--seed", type=int, default=0)
    seed.set_defaults(run=_cmd_seed)
    notify = command("notify", "deliver queued customer SMS, through the gateway "
                               "$HALLSERVER_SMS_GATEWAY names (docs/DEPLOY.md, SMS gateway)")
    notify.add_argument("--sms-log", type=Path,
                        help="write them to this log file instead (the log gateway)")
    notify.add_argument("--once", action="store_true")
    notify.add_argument("--interval", type=float, default=5.0)
    notify.set_defaults(run=_cmd_notify)
    kpi = command("report", "service-quality figures (KPI) of every hall over a period")
    kpi.add_argument("--since", type=_report_day, required=True,
                     help="first day of the period, YYYY-MM-DD (the halls' clock)")
    kpi.add_argument("--until", type=_report_day, required=True,
                     help="the day after the period, YYYY-MM-DD")
    kpi.add_argument("--by", type=Grouping, choices=list(Grouping), required=True)
    kpi.add_argument("--csv", type=Path, help="write CSV here instead of printing a table")
    kpi.add_argument("--hours", action="store_true",
                     help="the waiting and handling times by hall and hour of the hall day "
                          "instead of the groups")
    kpi.set_defaults(run=_cmd_report)
    audit = commands.add_parser("audit", help="the tamper-evident audit trail")
    command("verify", "check every chain of the audit trail (exit 1: one is broken)",
            under=audit.add_subparsers(dest="audit_command", required=True)
            ).set_defaults(run=_cmd_audit_verify)

    def terminal_commands(under: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        actor = ("audited with the OS user who runs it as the actor (operator:<user name>); "
                 "exit 2: no such hall or terminal, 1: nothing to do; nothing is changed then")
        listing = command("list", "every terminal, its state (active, pending approval, retired) "
                                  "and its last receipt number", under=under)
        listing.add_argument("--hall", help="only this hall's terminals")
        listing.set_defaults(run=_cmd_terminals_list)
        for name, what in (("approve", "let in the installation waiting for approval at this "
                                       "terminal (it retires the terminal's previous key)"),
                           ("retire", "retire the terminal: it can no longer log in or sync, and "
                                      "its sessions end at once")):
            change = command(name, f"{what}; {actor}", under=under)
            change.add_argument("hall", metavar="HALL")
            change.add_argument("terminal", metavar="TERMINAL")
            change.set_defaults(run=_cmd_terminals_change)

    terminals = commands.add_parser(
        "terminals", help="the halls' counter terminals: provisioned, approved by a "
                          "supervisor's login at the terminal or here")
    terminal_commands(terminals.add_subparsers(dest="terminals_command", required=True))
    add_admin_commands(commands, command, terminal_commands)
    add_calendar_commands(commands, command)
    database = commands.add_parser("database", help="the central database")
    command("restored", "after restoring the database from a backup: give it a new identity, "
                        "so that the terminals push again what it lost; audited with the OS "
                        "user who runs it as the actor (operator:<user name>)",
            under=database.add_subparsers(dest="database_command", required=True)
            ).set_defaults(run=_cmd_database_restored)
    from hallserver.account_import import add_account_commands
    from hallserver.scans_cli import add_scan_commands
    from hallserver.sms_cli import add_sms_commands

    add_account_commands(commands, command)
    add_sms_commands(commands, command)
    add_scan_commands(commands, command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    missing = missing_server_modules()
    if missing:
        print(f"hallserver: the server extra is not installed here (no {', '.join(missing)}): "
              "install it with pip install 'hallclient[server]'", file=sys.stderr)
        return 2
    args = _parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
