"""Entry points for the cross-process cache tests: ``python cache_probe.py NAME ...``.

Each NAME runs one public entry point on fixed data and prints its result as exact
``repr`` floats, so two runs can be compared character for character. The kernel
cache folder comes from the environment (FASTSCAPE_CACHE_DIR).
"""

from __future__ import annotations

import sys
import tempfile

import numpy as np

import fastscape


def _problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    Y = X @ rng.standard_normal((5, 4)) + 0.1 * rng.standard_normal((40, 4))
    return fastscape.Moments.from_data(X, Y), fastscape.random_weights([5, 3, 3, 4], seed=1)


def _text(a) -> str:
    return " ".join(repr(float(x)) for x in np.ravel(a))


def hessian():
    m, ws = _problem()
    return _text(fastscape.hessian(ws, m, weight_decay=0.1)[::7])


def derivatives():
    m, ws = _problem()
    v = np.linspace(-1.0, 1.0, fastscape.num_params([5, 3, 3, 4]))
    g = fastscape.flatten(fastscape.gradient(ws, m))
    return _text([fastscape.loss(ws, m), *g, *fastscape.hvp(ws, m, v)])


def classify():
    m, ws = _problem()
    c = fastscape.classify(ws, m)
    return f"{c.kind} {c.morse_index} {c.nullity} {c.loss!r}"


def critical_points():
    m, _ = _problem()
    pts = fastscape.critical_points(m, [5, 2, 4])
    return f"{pts.counts()} {list(pts.morse_index)} {len(pts.disagreements)} {_text(pts.loss)}"


def enumerate_landscape():
    with tempfile.TemporaryDirectory() as d:
        s = fastscape.enumerate_landscape(fastscape.random_spectrum(14, 2), 7, out=d + "/r")
    return f"{s.index_counts} {[(v.loss, v.index_set) for v in s.lowest]} {s.count_below}"


def residual():
    m = fastscape.residual_moments(np.array([[1.2, 0.3], [-0.2, 0.9]]), noise=0.1)
    ws = fastscape.residual_global_min(np.array([[1.2, 0.3], [-0.2, 0.9]]), 3)
    h = fastscape.hessian(ws, m, residual=True)
    return _text([fastscape.loss(ws, m, residual=True), *h.ravel()])


ENTRY_POINTS = [hessian, derivatives, classify, critical_points, enumerate_landscape, residual]

if __name__ == "__main__":
    table = {f.__name__: f for f in ENTRY_POINTS}
    for name in sys.argv[1:]:
        print(f"{name}: {table[name]()}")
