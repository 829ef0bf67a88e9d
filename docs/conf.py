"""Sphinx configuration for the fastscape documentation.

Build (from the repository root, after ``pip install -e '.[docs]'``)::

    python -m sphinx -W -b html docs docs/_build/html

Two pages are written here at build time, from the installed package itself, so
they cannot drift from the code: ``api.rst`` lists every name in ``fastscape.__all__``
(and in the ``fastscape.theory`` and ``fastscape.plot`` namespaces), and
``_generated/cli_*.txt`` hold the ``--help`` text of the ``fastscape`` command and its
subcommands. Neither is committed (see .gitignore).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import fastscape
import fastscape.plot
import fastscape.theory
from fastscape.cli import main as cli_main

HERE = Path(__file__).resolve().parent

project = "fastscape"
author = "the fastscape developers"
copyright = "the fastscape developers"  # noqa: A001
version = release = fastscape.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "README.md"]
templates_path = ["_templates"]

# MyST: $...$ and $$...$$ math, ::: fences, heading anchors for in-page links
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# autodoc / autosummary / numpydoc
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False  # members are listed by the class template
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_title = f"fastscape {release}"
html_static_path: list[str] = []


# --- pages generated from the package ---------------------------------------------

_SECTIONS = [
    (
        "fastscape",
        fastscape,
        "Everything importable from the package top: the derivatives, critical points, "
        "deep networks, residual networks and the streaming enumeration.",
    ),
    (
        "fastscape.theory",
        fastscape.theory,
        "Closed forms: critical values, Morse index and nullity laws, weight-decay laws, "
        "Gaussian binomials and the aggregates over all index sets (see :doc:`theory`).",
    ),
    (
        "fastscape.plot",
        fastscape.plot,
        "Figures (matplotlib, the ``plot`` extra: ``pip install 'fastscape-dln[plot]'``).",
    ),
]


def _api_page() -> str:
    lines = [
        "API reference",
        "=============",
        "",
        "Generated at build time from the ``__all__`` lists of the package, so every",
        "public name has a page here. Each docstring's Examples section is run by",
        "``tests/test_docstrings.py``.",
        "",
    ]
    for title, module, blurb in _SECTIONS:
        lines += [f"``{title}``", "-" * (len(title) + 4), "", blurb, ""]
        lines += [f".. currentmodule:: {title}", "", ".. autosummary::"]
        lines += ["   :toctree: generated", "   :nosignatures:", ""]
        lines += [f"   {name}" for name in sorted(module.__all__, key=str.lower)]
        lines.append("")
    return "\n".join(lines)


def _help(argv: list[str]) -> str:
    buf = io.StringIO()
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"  # argparse wraps to this width: a stable page
    try:
        with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
            cli_main(argv)
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    return buf.getvalue()


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


#: pages with a fixed place in the index; any other docs/*.md is a topic page
FIXED_PAGES = ("index", "guide", "theory", "tour", "cli", "benchmarks", "contributing")
#: topic pages listed first, in this order, when they exist
TOPIC_ORDER = ("spectra", "dynamics", "topology")


def _topics_toctree() -> str:
    """A toctree of the topic pages present (new docs/*.md appear without an edit)."""
    found = {p.stem for p in HERE.glob("*.md")} - set(FIXED_PAGES)
    ordered = [t for t in TOPIC_ORDER if t in found] + sorted(found - set(TOPIC_ORDER))
    if not ordered:
        return ""
    return "```{toctree}\n:maxdepth: 2\n:caption: Topics\n\n" + "\n".join(ordered) + "\n```\n"


_write_if_changed(HERE / "api.rst", _api_page())
_write_if_changed(HERE / "_generated" / "topics.md", _topics_toctree())
_CLI = (("main", ["--help"]), ("enumerate", ["enumerate", "--help"]), ("plot", ["plot", "--help"]))
for _name, _argv in _CLI:
    _write_if_changed(HERE / "_generated" / f"cli_{_name}.txt", _help(_argv))


# --- docstrings: plain-text formulas ------------------------------------------------
# The docstrings write norms and set sizes the way the code's comments do, |S| or
# |grad|, which reStructuredText would read as substitution references. Outside code
# (doctest blocks, literal blocks, inline literals) every "|" is escaped, so the
# docstrings stay plain text for ``help()`` and render as written here.

_LITERAL = re.compile(r"(``.*?``)")


def _escape_bars(line: str) -> str:
    parts = _LITERAL.split(line)
    return "".join(p if p.startswith("``") else p.replace("|", r"\|") for p in parts)


def _plain_formulas(app, what, name, obj, options, lines) -> None:
    in_doctest = False
    literal_indent = None  # indentation of the paragraph that opened a literal block
    for i, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if stripped and indent <= literal_indent:
                literal_indent = None
            else:
                continue
        if stripped.startswith(">>>"):
            in_doctest = True
        elif not stripped:
            in_doctest = False
        if in_doctest or stripped.startswith(".. "):
            continue
        lines[i] = _escape_bars(line)
        if stripped.endswith("::"):
            literal_indent = indent


def setup(app):
    # after numpydoc (priority 500) has turned the sections into reStructuredText
    app.connect("autodoc-process-docstring", _plain_formulas, priority=600)
