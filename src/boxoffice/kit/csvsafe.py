"""CSV cells that spreadsheets will not run as formulas (CSV / formula injection).

Buyers choose their own names and transfer texts; a cell such as ``=HYPERLINK(...)`` in an export
would be executed by Excel or LibreOffice when an organizer opens the file. Every exporter passes
text cells through :func:`safe_cell`, so the rule lives in one place.
"""

from __future__ import annotations

# What spreadsheet programs read as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """``value`` with a leading ``'`` if a spreadsheet would take it for a formula; otherwise unchanged.

    Meant for text. Numbers written by the exporter itself (``-12.50``) are not user input and stay
    as they are, so do not pass them through here.
    """
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value
