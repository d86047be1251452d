"""What the tests share: where the checkout is, the print queue, a test terminal
(counter.py), domain objects (factories.py), a server on both databases (server.py), and the
helper processes and proxies the fault tests drive."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT_QUEUE = "HallPDF"  # the cups-pdf queue ./dev test sets up
