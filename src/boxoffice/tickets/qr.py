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


def dark_blocks(secret: str) -> tuple[int, list[tuple[int, int, int, int]]]:
    """``(size, blocks)``: the symbol's width in modules (quiet zone included) and its dark modules
    as rectangles ``(row, first column, width, height)`` — each horizontal run of dark modules,
    stretched down over the rows below that repeat it, so a PDF draws about half as many shapes."""
    matrix = _code(secret).matrix
    size = len(matrix) + 2 * QUIET_ZONE
    open_blocks: dict[tuple[int, int], list[int]] = {}  # (column, width) -> [first row, height]
    blocks: list[tuple[int, int, int, int]] = []
    for y, row in enumerate(matrix):
        runs = set(_runs(row))
        for key in [key for key in open_blocks if key not in runs]:
            first, height = open_blocks.pop(key)
            blocks.append((first + QUIET_ZONE, key[0] + QUIET_ZONE, key[1], height))
        for key in runs:
            if key in open_blocks:
                open_blocks[key][1] += 1
            else:
                open_blocks[key] = [y, 1]
    blocks.extend(
        (first + QUIET_ZONE, key[0] + QUIET_ZONE, key[1], height) for key, (first, height) in open_blocks.items()
    )
    return size, sorted(blocks)


def _runs(row: bytearray | tuple[int, ...]) -> Iterator[tuple[int, int]]:
    """Each run of dark modules in ``row`` as ``(first column, length)``."""
    x = 0
    while x < len(row):
        if row[x]:
            start = x
            while x < len(row) and row[x]:
                x += 1
            yield start, x - start
        else:
            x += 1


def svg(secret: str, *, scale: int = 6, title: str = "Ticket QR code") -> str:
    """An inline ``<svg>`` of the secret's QR code (black on white, with its quiet zone)."""
    return str(
        _code(secret).svg_inline(scale=scale, border=QUIET_ZONE, dark="#000", light="#fff", title=title, omitsize=False)
    )
