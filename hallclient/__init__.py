"""HallClient: the counter client of an electricity-supply service hall."""

__version__ = "0.1.0"
