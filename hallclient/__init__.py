"""HallClient: the counter client of an electricity-supply service hall."""

from hallcore import __version__

__all__ = ["__version__"]
