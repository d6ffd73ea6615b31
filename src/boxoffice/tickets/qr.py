"""QR codes of ticket secrets: as dark-module runs for drawing in a PDF, and as inline SVG for pages."""

from __future__ import annotations

from collections.abc import Iterator

import segno

# Medium error correction survives a scuffed print or a cracked phone screen; the secrets are
# short, so the code stays at version 2-3 with large modules.
ERROR_CORRECTION = "m"
QUIET_ZONE = 4


def _code(secret: str) -> segno.QRCode:
    return segno.make_qr(secret, error=ERROR_CORRECTION, boost_error=False)


def dark_runs(secret: str) -> tuple[int, list[tuple[int, int, int]]]:
    """``(size, runs)``: the symbol's width in modules (quiet zone included) and each horizontal
    run of dark modules as ``(row, first column, length)`` — one filled rectangle per run."""
    matrix = _code(secret).matrix
    size = len(matrix) + 2 * QUIET_ZONE

    def runs() -> Iterator[tuple[int, int, int]]:
        for y, row in enumerate(matrix):
            x = 0
            while x < len(row):
                if row[x]:
                    start = x
                    while x < len(row) and row[x]:
                        x += 1
                    yield y + QUIET_ZONE, start + QUIET_ZONE, x - start
                else:
                    x += 1

    return size, list(runs())


def svg(secret: str, *, scale: int = 6, title: str = "Ticket QR code") -> str:
    """An inline ``<svg>`` of the secret's QR code (black on white, with its quiet zone)."""
    return str(
        _code(secret).svg_inline(scale=scale, border=QUIET_ZONE, dark="#000", light="#fff", title=title, omitsize=False)
    )
