"""The files shipped with the client, in this package's folder: fonts (with their licences),
compiled translations and the licence texts of what HallClient ships (README.md says what).

They are package data, so they are here wherever the package is: in a checkout, in an
installed wheel, and inside the frozen app, where build.spec puts them at the same place.
"""

from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    return Path(__file__).resolve().parent


def resource(relative: str) -> Path:
    path = resources_dir() / relative
    if not path.exists():
        raise FileNotFoundError(f"HallClient's resource {relative} is missing ({path}); "
                                "reinstall HallClient.")
    return path
