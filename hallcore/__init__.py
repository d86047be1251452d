"""What the counter terminal and the central server share: the domain's rules, the wire
schema, receipt signing, the audit chain, demo data and the database helpers. Imports neither
Qt nor FastAPI."""

__version__ = "0.1.0"
