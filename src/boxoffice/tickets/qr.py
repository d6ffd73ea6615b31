"""QR codes of ticket secrets: as dark-module blocks for drawing in a PDF, and as inline SVG for pages.

Encoded by zxing-cpp: a few tenths of a millisecond a code, where segno (pure Python) took about 5 ms,
most of it spent choosing the mask. A ticket's page and its PDF show the same symbol.
"""

from __future__ import annotations

import re
from html import escape

import zxingcpp

# Medium error correction survives a scuffed print or a cracked phone screen; the secrets are
# short, so the code stays at version 2-3 with large modules.
ERROR_CORRECTION = "M"
QUIET_ZONE = 4
# zxing-cpp draws the symbol as a grey image: one byte a module, 0 for a dark one.
_DARK_RUN = re.compile(rb"\x00+")


def _rows(secret: str) -> list[bytes]:
    """The symbol's rows of modules (quiet zone not included), one byte a module, 0 when dark."""
    code = zxingcpp.create_barcode(secret, zxingcpp.BarcodeFormat.QRCode, ec_level=ERROR_CORRECTION)
    image = code.to_image(add_quiet_zones=False)
    width = image.shape[1]
    pixels = bytes(image)  # type: ignore[call-overload]  # the stub leaves out the buffer protocol it has
    return [pixels[start : start + width] for start in range(0, len(pixels), width)]


def dark_blocks(secret: str) -> tuple[int, list[tuple[int, int, int, int]]]:
    """``(size, blocks)``: the symbol's width in modules (quiet zone included) and its dark modules
    as rectangles ``(row, first column, width, height)`` — each horizontal run of dark modules,
    stretched down over the rows below that repeat it, so a PDF draws about half as many shapes."""
    rows = _rows(secret)
    size = len(rows) + 2 * QUIET_ZONE
    open_blocks: dict[tuple[int, int], list[int]] = {}  # (column, width) -> [first row, height]
    blocks: list[tuple[int, int, int, int]] = []
    for y, row in enumerate(rows):
        runs = {(run.start(), run.end() - run.start()) for run in _DARK_RUN.finditer(row)}
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


def svg(secret: str, *, scale: int = 6, title: str = "Ticket QR code") -> str:
    """An inline ``<svg>`` of the secret's QR code (black on white, with its quiet zone), ``scale``
    pixels a module."""
    size, blocks = dark_blocks(secret)
    dark = "".join(f"M{column} {row}h{width}v{height}h-{width}z" for row, column, width, height in blocks)
    return (
        f'<svg width="{size * scale}" height="{size * scale}"><title>{escape(title)}</title>'
        f'<g transform="scale({scale})"><path fill="#fff" d="M0 0h{size}v{size}h-{size}z"/>'
        f'<path fill="#000" d="{dark}"/></g></svg>'
    )
