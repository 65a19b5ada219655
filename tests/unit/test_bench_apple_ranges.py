"""The Apple ranges bench on a tiny list: it loads both forms and checks they agree (nothing timed)."""

from __future__ import annotations

import pytest

from bench import apple_ranges


def test_the_bench_compares_both_forms_and_says_they_agree(capsys: pytest.CaptureFixture[str]) -> None:
    assert apple_ranges.main(["--prefixes", "300", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "synthetic list: 300 prefixes" in out
    assert "the two forms answer 2,000 lookups alike" in out
