import os

# Qt must not look for a display: set before any Qt module is imported.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
