"""`hallserver` / `python -m hallserver`: the central server's command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hallclient import __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hallserver", description="HallServer, the central server the halls sync with."
    )
    parser.add_argument("--version", action="version", version=f"HallServer {__version__}")
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
