"""QR codes of ticket secrets: the PDF's rectangles cover exactly the symbol's dark modules, and a
ticket page's inline SVG reads back as the secret."""

from __future__ import annotations

from pathlib import Path

from boxoffice.kit.codes import new_ticket_secret
from boxoffice.tickets import qr
from tickets.pdfread import decode_svg


def test_dark_blocks_cover_each_dark_module_once_and_nothing_else() -> None:
    secret = new_ticket_secret()
    size, blocks = qr.dark_blocks(secret)
    covered = [[0] * size for _ in range(size)]
    for row, column, width, height in blocks:
        for y in range(row, row + height):
            for x in range(column, column + width):
                covered[y][x] += 1
    symbol = qr._rows(secret)
    assert size == len(symbol) + 2 * qr.QUIET_ZONE
    expected = [[0] * size for _ in range(size)]
    for y, modules in enumerate(symbol):
        for x, module in enumerate(modules):
            expected[y + qr.QUIET_ZONE][x + qr.QUIET_ZONE] = int(module == 0)
    assert covered == expected


def test_a_ticket_pages_qr_code_reads_back_as_the_secret(tmp_path: Path) -> None:
    secret = new_ticket_secret()
    svg = qr.svg(secret, title="QR code of ticket 1: <Regular>")
    assert "<title>QR code of ticket 1: &lt;Regular&gt;</title>" in svg
    assert decode_svg(svg, tmp_path) == secret
