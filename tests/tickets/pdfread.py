"""Reading a tickets PDF back: the QR code of each page, and its text; and a ticket page's QR code.

Pages are rasterised with poppler's ``pdftoppm`` and the codes read with ``zbarimg`` (Debian's
poppler-utils and zbar-tools, installed by ``.ci/run``); missing tools skip, or fail under CI=true.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw

from components import unavailable


def _tools() -> tuple[str, str]:
    pdftoppm, zbarimg = shutil.which("pdftoppm"), shutil.which("zbarimg")
    if not (pdftoppm and zbarimg):
        unavailable("needs pdftoppm and zbarimg (apt-get install poppler-utils zbar-tools)")
    assert pdftoppm and zbarimg
    return pdftoppm, zbarimg


def _decode(image: Path, zbarimg: str) -> str:
    return subprocess.run(
        [zbarimg, "--quiet", "--raw", str(image)], capture_output=True, text=True, check=False
    ).stdout.strip()


def decode_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    """The QR code content of each page, in page order (one code per page expected)."""
    pdftoppm, zbarimg = _tools()
    source = tmp_path / "tickets.pdf"
    source.write_bytes(pdf)
    subprocess.run([pdftoppm, "-r", "100", "-png", str(source), str(tmp_path / "page")], check=True)
    return [_decode(image, zbarimg) for image in sorted(tmp_path.glob("page-*.png"))]


def decode_svg(svg: str, tmp_path: Path) -> str:
    """The content of the QR code in a ticket page's ``<svg>``: its white square and dark rectangles
    (``M{x} {y}h{width}v{height}…z``) drawn at its scale, read by zbarimg."""
    _, zbarimg = _tools()
    scale = int(re.search(r"scale\((\d+)\)", svg).group(1))  # type: ignore[union-attr]
    size = int(re.search(r'<svg width="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    dark = re.search(r'<path fill="#000" d="([^"]*)"', svg).group(1)  # type: ignore[union-attr]
    for x, y, width, height in re.findall(r"M(\d+) (\d+)h(\d+)v(\d+)h-\d+z", dark):
        left, top = int(x) * scale, int(y) * scale
        draw.rectangle((left, top, left + int(width) * scale - 1, top + int(height) * scale - 1), fill=0)
    path = tmp_path / "page-qr.png"
    image.save(path)
    return _decode(path, zbarimg)


def page_texts(pdf: bytes, tmp_path: Path) -> list[str]:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        unavailable("needs pdftotext (apt-get install poppler-utils)")
    assert pdftotext
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    out = subprocess.run([pdftotext, "-layout", str(source), "-"], capture_output=True, text=True, check=True)
    return [page for page in out.stdout.split("\f") if page.strip()]
