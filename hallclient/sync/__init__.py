"""Sync with the central server: bootstrap, pull by cursor, push the outbox. No Qt here."""
