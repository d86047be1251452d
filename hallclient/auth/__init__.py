"""Credentials: the terminal's key and the clerk's tokens in the system keyring."""
