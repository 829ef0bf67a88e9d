"""The tour (docs/tour.md): scripts/tour.py runs, its facts hold, and the page matches it."""

from __future__ import annotations

import ast
import importlib.util
import itertools
import os
import re
import subprocess
import sys
from math import comb
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "tour.py"
DOC = REPO / "docs" / "tour.md"
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def normalise(text: str) -> str:
    """Round-off-proof text: numbers below 1e-9 in size become 0, whitespace collapses.

    Residuals such as |grad| = 1.3e-15 depend on the BLAS build and thread count;
    everything the tour prints at a visible precision must match exactly.
    """

    def sub(mt):
        try:
            x = float(mt.group())
        except ValueError:
            return mt.group()
        return "0" if abs(x) < 1e-9 else mt.group()

    return " ".join(NUMBER.sub(sub, text).split())


@pytest.fixture(scope="module")
def tour_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("tour")
    env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(root), "--write-docs", str(root / "tour.md")],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    return root, proc


def load_tour():
    spec = importlib.util.spec_from_file_location("fastscape_tour", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def section_output(stdout: str, key: str) -> str:
    m = re.search(rf"^== \[{key}\][^\n]*\n(.*?)(?=^== )", stdout, re.S | re.M)
    assert m, f"section {key} missing from the output"
    return m.group(1)


@pytest.mark.slow
def test_tour_runs(tour_run):
    root, proc = tour_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "== tour complete" in proc.stdout
    for sec in load_tour().SECTIONS:
        assert f"== [{sec.key}]" in proc.stdout


@pytest.mark.slow
def test_docs_match_the_script(tour_run):
    """docs/tour.md is what the script writes now (code, prose, output, figures)."""
    root, proc = tour_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    fresh = (root / "tour.md").read_text()
    committed = DOC.read_text()
    assert normalise(fresh) == normalise(committed), (
        "docs/tour.md is stale: regenerate it with `python scripts/tour.py --write-docs`"
    )
    # the code blocks are exactly the script's sections, in order, and valid Python
    blocks = re.findall(r"```python\n(.*?)\n```", committed, re.S)
    assert blocks == [sec.code for sec in load_tour().SECTIONS]
    for block in blocks:
        ast.parse(block)


def test_readme_links_the_tour():
    """The README sends readers to the tour page by a link that works on GitHub too."""
    readme = (REPO / "README.md").read_text()
    assert "](docs/tour.md)" in readme
    # the README no longer carries a second, hand-pasted copy of the tour
    assert load_tour().SECTIONS[1].code not in readme


@pytest.mark.slow
def test_figures_written_and_linked(tour_run):
    root, proc = tour_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    # links are relative to docs/, where the page lives (GitHub and Sphinx resolve them so)
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", DOC.read_text())
    assert len(linked) >= 11
    for rel in linked:
        assert rel.startswith("figures/"), rel
        made = root / "docs" / rel
        assert made.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", rel
        assert (REPO / "docs" / rel).is_file(), f"docs/{rel} is linked but not committed"


def brute_index_counts(q, p):
    counts = [0] * (p * (q - p) + 1)
    for S in itertools.combinations(range(q), p):
        counts[sum(1 for i in range(q) if i not in S for j in S if i < j)] += 1
    return counts


@pytest.mark.slow
def test_printed_facts_hold(tour_run):
    """Re-check the printed numbers against independent references."""
    _, proc = tour_run
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-3000:]
    # closed-form and measured index/nullity agree, the minimum is the top-p set
    f4 = section_output(out, "critical_points")
    assert "disagreements with the closed form: 0" in f4
    f5 = section_output(out, "critical_values")
    pairs = re.findall(r"loss (\d+\.\d+)\s+1/2\(tr Syy - sum lambda_S\) (\d+\.\d+)", f5)
    assert len(pairs) == comb(4, 2) and all(a == b for a, b in pairs)
    assert "lowest: (0, 1)" in f5
    # Morse index counts of the 252 points = brute-force inversion counts
    f6 = section_output(out, "saddle_counts")
    counts = ast.literal_eval(re.search(r"Morse index counts \(Hessians\): (\[.*\])", f6).group(1))
    assert counts == brute_index_counts(10, 5)
    at_scale = section_output(out, "saddle_counts_at_scale")
    assert f"{comb(24, 12):,} critical points, complete: True" in at_scale
    # one index-0 point, all others strict saddles
    f7 = section_output(out, "no_bad_minima")
    assert "11 critical points (all ranks): {'global_min': 1, 'strict_saddle': 10}" in f7
    # nullity p^2 at every gauge
    assert section_output(out, "minima_family").count("nullity 4 (p^2 = 4)  global_min") == 4
    # no local minima in depth, non-strict saddles exist
    f9 = section_output(out, "deep")
    kinds = ast.literal_eval(re.search(r": (\{.*\})", f9).group(1))
    assert "local_min" not in kinds and kinds["global_min"] == 1 and kinds["non_strict_saddle"] > 0
    # weight decay: nullity p^2 -> p(p-1)/2, W = 0 spurious minimum for H = 3
    dec = section_output(out, "decay")
    assert re.search(r"mu = 0\.000: 11 critical points.*nullity 4", dec)
    assert re.search(r"mu = 1\.\d+:  4 critical points.*nullity 1", dec)
    assert "H = 3, mu = 0.1, W = 0: local_min, index 0" in dec
    # bad saddle: Hessian identically 0 at W = 0 for H = 3, negative eigenvalue for H = 2
    bad = section_output(out, "badsaddle")
    assert re.search(r"H = 3: .*max \|Hessian entry\| = 0\.000.*non_strict_saddle", bad)
    assert re.search(r"H = 2: .*min eigenvalue -\d.*strict_saddle", bad)
    # residual: H * max |W_k| grows but stays bounded, every layer norm -> 0 like 1/H
    res = section_output(out, "residual")
    rows = re.findall(r"H = +(\d+): max \|W_k\| = (\d\.\d+), H \* max \|W_k\| = (\d\.\d+)", res)
    assert [int(h) for h, _, _ in rows] == [1, 2, 4, 8, 16, 32]
    products = [float(x) for _, _, x in rows]
    limit = float(re.search(r"\|logm R\|_2 = (\d+\.\d+)", res).group(1))
    assert abs(products[-1] - limit) < 0.02 * limit  # H (expm(L / H) - I) -> L
    assert float(rows[-1][1]) < 0.1


def test_tour_covers_every_classical_fact():
    headings = re.findall(r"^## (.*)$", DOC.read_text(), re.M)
    topics = (
        "convex in B",
        "convex in A",
        "W = P_A Syx Sxx^-1",
        "Every critical point is A = U_S C",
        "global minimum is PCA",
        "Exponentially many saddle points",
        "at scale",
        "No bad local minima",
        "global minimum is not unique",
        "deep linear networks",
        "Weight decay",
        "no bad local minima",
        "bad saddle at 0",
        "residual",
    )
    for topic in topics:
        assert sum(topic in h for h in headings) == 1, topic
    assert len(headings) == len(load_tour().SECTIONS)
