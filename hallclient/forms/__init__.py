"""Business forms: one module per business type, declared once and shown by hallclient.ui."""
