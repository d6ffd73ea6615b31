"""Reading a tickets PDF back: the QR code of each page, and its text.

Pages are rasterised with poppler's ``pdftoppm`` and the codes read with ``zbarimg`` (Debian's
poppler-utils and zbar-tools, installed by ``.ci/run``); missing tools skip, or fail under CI=true.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from components import unavailable


def _tools() -> tuple[str, str]:
    pdftoppm, zbarimg = shutil.which("pdftoppm"), shutil.which("zbarimg")
    if not (pdftoppm and zbarimg):
        unavailable("needs pdftoppm and zbarimg (apt-get install poppler-utils zbar-tools)")
    assert pdftoppm and zbarimg
    return pdftoppm, zbarimg


def decode_pages(pdf: bytes, tmp_path: Path) -> list[str]:
    """The QR code content of each page, in page order (one code per page expected)."""
    pdftoppm, zbarimg = _tools()
    source = tmp_path / "tickets.pdf"
    source.write_bytes(pdf)
    subprocess.run([pdftoppm, "-r", "100", "-png", str(source), str(tmp_path / "page")], check=True)
    found = []
    for image in sorted(tmp_path.glob("page-*.png")):
        out = subprocess.run([zbarimg, "--quiet", "--raw", str(image)], capture_output=True, text=True, check=False)
        found.append(out.stdout.strip())
    return found


def page_texts(pdf: bytes, tmp_path: Path) -> list[str]:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        unavailable("needs pdftotext (apt-get install poppler-utils)")
    assert pdftotext
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    out = subprocess.run([pdftotext, "-layout", str(source), "-"], capture_output=True, text=True, check=True)
    return [page for page in out.stdout.split("\f") if page.strip()]
