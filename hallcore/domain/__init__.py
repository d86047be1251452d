"""Business rules in plain Python: no Qt, no database. The server runs the same code."""
