"""`hallclient` / `python -m hallclient`: the command line of the counter client."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hallclient import __version__


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
        "--lang", choices=("zh", "en"), default="zh", help="language of the demo's output"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.demo:
        from hallclient.demo import run_demo

        return run_demo(lang=args.lang)
    _parser().print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
