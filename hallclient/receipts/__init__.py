"""Acceptance receipts (业务受理回执): their content, QR code and PDF layouts."""
