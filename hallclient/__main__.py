"""`hallclient` / `python -m hallclient`: the command line of the counter client."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from hallclient import __version__
from hallclient.config import data_dir
from hallclient.extras import demo_unavailable
from hallclient.logs import logging_to

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hallclient", description="HallClient, the service-hall counter client."
    )
    parser.add_argument("--version", action="version", version=f"HallClient {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="fill a demo cache with seeded accounts and walk through the counter's rules",
    )
    parser.add_argument(
        "--text", action="store_true",
        help="with --demo: the walk-through on the terminal, even where a screen is available",
    )
    parser.add_argument(
        "--lang", choices=("zh", "en"),
        help="the interface's language (default: the terminal's last, or Chinese)"
    )
    parser.add_argument(
        "--smoke-test", action="store_true",
        help="check that this installation works (offscreen, in a temporary directory); "
             "prints one line, exits 0 when it does")
    commands = parser.add_subparsers(dest="command")
    setup = commands.add_parser(
        "setup", help="set this terminal up (once, by IT); changing the server, hall or "
                      "terminal later moves it: a supervisor's online login there, never while "
                      "operations made here wait to be sent")
    setup.add_argument("--server", required=True, help="e.g. https://hallserver.example:8600")
    setup.add_argument("--hall", required=True)
    setup.add_argument("--terminal", required=True,
                       help="letters, digits, _ and . (no -: receipt numbers are "
                            "HALL-TERMINAL-DAY-SEQ)")
    setup.add_argument("--ca-file", default="",
                       help="check an https server's certificate against this CA (PEM file) "
                            "instead of the system's trusted CAs")
    setup.add_argument("--supervisor", metavar="ID",
                       help="a supervisor of the hall, who logs in online at the new settings: "
                            "needed to move a set-up terminal; at the first setup, their login "
                            "approves the terminal at once")
    setup.add_argument("--password-stdin", action="store_true",
                       help="read the supervisor's password from standard input (for scripts)")
    login = commands.add_parser("login", help="log a clerk in online; keeps the session")
    login.add_argument("--clerk", required=True)
    login.add_argument("--password-stdin", action="store_true",
                       help="read the password from standard input (for scripts; after a "
                            "one-time password, the new one on the next two lines)")
    test_page = commands.add_parser(
        "print-test", help="a sample receipt of every business type, to check a printer")
    test_page.add_argument("--layout", choices=("a4", "80mm"), default="a4")
    test_page.add_argument("--lang", choices=("zh", "en", "both"), default="zh")
    test_page.add_argument("--out", help="write the PDF here instead of printing it")
    test_page.add_argument("--printer", help="print here (default: the system's default)")
    sync = commands.add_parser("sync", help="sync with the server")
    sync.add_argument("--once", action="store_true", required=True,
                      help="bootstrap if needed, push, pull, print a summary and exit")
    rescue = commands.add_parser(
        "salvage", help="a damaged cache: recover the requests it still holds (waiting ones "
                        "and those sent) into a new cache, moving the damaged file aside")
    rescue.add_argument("--yes", action="store_true",
                        help="salvage without asking (for scripts)")
    return parser


def _has_screen() -> bool:
    """A desktop to open a window on (Windows and macOS always have one)."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.demo:  # its world lives in a temporary directory: no log file is left either
        unavailable = demo_unavailable()
        if unavailable is not None:
            print(f"hallclient: {unavailable}", file=sys.stderr)
            return 1
        if not args.text and _has_screen():
            from hallclient.ui.demo_app import run_gui_demo

            return run_gui_demo(lang=args.lang or "zh")
        from hallclient.demo import run_demo

        return run_demo(lang=args.lang or "zh")
    if args.command is None and not args.smoke_test and not _has_screen():
        _parser().print_help()
        return 0
    what = "smoke-test" if args.smoke_test else args.command or "desktop"
    with logging_to(data_dir()):
        log.info("HallClient %s: %s", __version__, what)
        code = _run(args)
        log.info("%s: exit code %d", what, code)
        return code


def _run(args: argparse.Namespace) -> int:
    if args.smoke_test:
        from hallclient.smoke import run_smoke_test

        return run_smoke_test()
    if args.command is None:
        from hallclient.ui.app import run_app

        return run_app(lang=args.lang)
    from hallclient import cli

    try:
        if args.command == "setup":
            print(cli.setup(args.server, args.hall, args.terminal, args.ca_file,
                            args.supervisor, args.password_stdin))
        elif args.command == "login":
            print(cli.login(args.clerk, args.password_stdin))
        elif args.command == "salvage":
            print(cli.salvage(args.yes))
        elif args.command == "print-test":
            print(cli.print_test(args.layout, args.lang, args.out, args.printer))
        else:
            print(cli.sync_once())
    except cli.CommandFailed as exc:
        print(f"hallclient: {exc}", file=sys.stderr)
        return exc.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
