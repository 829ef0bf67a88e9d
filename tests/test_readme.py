"""The README's runnable examples print what the README says they print.

Every ```python block outside the tour (the tour has tests/test_tour.py) that is
followed by a plain ``` output block is run, and its stdout compared with that block.
Numbers of round-off size (|x| < 1e-9, e.g. a residual 3.6e-15 or an eigenvalue -7.8e-16)
differ between machines and BLAS builds, so they are compared as 0, and runs of spaces
(table columns padded to those numbers' widths) as one space.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
TOUR_BEGIN = "<!-- tour:begin"
TOUR_END = "<!-- tour:end -->"

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)")


def _examples():
    text = README.read_text()
    head, _, rest = text.partition(TOUR_BEGIN)
    _, _, tail = rest.partition(TOUR_END)
    pattern = re.compile(r"```python\n(.*?)\n```\s*\n```\n(.*?)\n```", re.S)
    return [m.groups() for m in pattern.finditer(head + tail)]


def _normalise(out: str) -> list[str]:
    def tiny(m):
        return "0" if abs(float(m.group())) < 1e-9 else m.group()

    return [" ".join(_NUMBER.sub(tiny, line).split()) for line in out.strip().splitlines()]


EXAMPLES = _examples()


def test_readme_has_examples():
    assert len(EXAMPLES) >= 3  # quickstart, two-layer tour, deep tour


@pytest.mark.parametrize("code, expected", EXAMPLES, ids=lambda x: x.splitlines()[0][:30])
def test_readme_example_prints_what_it_says(code, expected):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})
    assert _normalise(buf.getvalue()) == _normalise(expected)
