"""Database helpers both sides use: SQLite engines, Alembic driving, the naming convention,
the UTC column type and the account's columns."""
