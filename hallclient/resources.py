"""Where the files of resources/ are: beside the package in a checkout, inside the frozen app."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource(relative: str) -> Path:
    path = resources_dir() / relative
    if not path.exists():
        raise FileNotFoundError(f"HallClient's resource {relative} is missing ({path}); "
                                "reinstall HallClient.")
    return path
