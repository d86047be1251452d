"""Which of HallClient's optional parts this installation has.

A counter PC installs the client extra alone (`pip install 'hallclient[client]'`); the demo
(`hallclient --demo`) runs an embedded HallServer on a loopback port, which needs the server
extra's libraries as well.
"""

from __future__ import annotations

from hallcore.extras import missing_server_modules

INSTALL_SERVER_EXTRA = "pip install 'hallclient[client,server]'"


def demo_unavailable() -> str | None:
    """Why the demo cannot run on this installation, in a sentence; None when it can."""
    missing = missing_server_modules()
    if not missing:
        return None
    return (f"the demo runs its own HallServer, which needs the server extra, not installed "
            f"here (no {', '.join(missing)}): install it with {INSTALL_SERVER_EXTRA} "
            "(in a checkout: ./dev demo). The counter itself does not need it.")
