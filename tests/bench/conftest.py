"""The harness lives in the repository's top-level ``bench`` package (run as ``python -m bench.run``
from the checkout), which is not installed: put the checkout first on the path so ``import bench``
finds it rather than this test folder of the same name."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
