"""The README and the documentation pages: their examples print what they say they print.

Every ```python block of README.md and of docs/*.md (except docs/tour.md, which
tests/test_tour.py regenerates and compares) that is followed by a plain ``` output
block is run, and its stdout compared with that block. Numbers of round-off size
(|x| < 1e-9, e.g. a residual 3.6e-15 or an eigenvalue -7.8e-16) differ between machines
and BLAS builds, so they are compared as 0, and runs of spaces (table columns padded to
those numbers' widths) as one space. The README is also checked as a front page: at
most 250 lines, and every relative link in it and in the pages points to a file of the
repository.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
PAGES = [README] + sorted(p for p in (REPO / "docs").glob("*.md") if p.name != "tour.md")

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)")
_EXAMPLE = re.compile(r"```python\n(.*?)\n```\s*\n```\n(.*?)\n```", re.S)
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _examples():
    out = []
    for page in PAGES:
        for i, m in enumerate(_EXAMPLE.finditer(page.read_text())):
            out.append(pytest.param(*m.groups(), id=f"{page.relative_to(REPO)}#{i}"))
    return out


def _normalise(out: str) -> list[str]:
    def tiny(m):
        return "0" if abs(float(m.group())) < 1e-9 else m.group()

    return [" ".join(_NUMBER.sub(tiny, line).split()) for line in out.strip().splitlines()]


EXAMPLES = _examples()


def test_pages_have_examples():
    readme = [p for p in EXAMPLES if p.id.startswith("README.md#")]
    assert len(readme) >= 1  # the quickstart
    assert len(EXAMPLES) >= 3  # plus the guide's two-layer and deep examples


@pytest.mark.slow
@pytest.mark.parametrize("code, expected", EXAMPLES)
def test_example_prints_what_it_says(code, expected):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "example", "exec"), {"__name__": "doc_example"})
    assert _normalise(buf.getvalue()) == _normalise(expected)


def test_readme_is_a_front_page():
    lines = README.read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines: move detail into docs/"
    text = "\n".join(lines)
    for page in ("docs/theory.md", "docs/tour.md", "docs/cli.md", "docs/benchmarks.md"):
        assert f"]({page})" in text, f"README.md does not link {page}"


@pytest.mark.parametrize(
    "page",
    [README, *sorted((REPO / "docs").glob("*.md"))],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_relative_links_resolve(page):
    """Relative links work on GitHub (and in Sphinx): each names an existing file."""
    for target in _LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a URL, or an anchor in the same page
        path = (page.parent / target.split("#", 1)[0]).resolve()
        assert path.exists(), f"{page.name} links {target}, which does not exist"
