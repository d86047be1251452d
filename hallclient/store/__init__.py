"""The local SQLite cache: models, migrations and opening the file safely."""
