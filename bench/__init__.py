"""`make bench`: what an SES event costs in DynamoDB requests, capacity, Lambda time and money,
measured against a naive baseline in the same run (see the README's "Benchmarks" section)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The Lambda code lives in functions/ (its own root on Lambda); make `tracker` importable however
# the bench is started (`make bench` also sets PYTHONPATH).
for _path in (str(ROOT / "functions"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
