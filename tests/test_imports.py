"""The import graph of fastscape: no cycles (function-level imports and the package
``__init__`` included) and no use of another module's private names.

Every module under fastscape/ and kernels/ (installed as ``fastscape.kernels``) is parsed
with ``ast``; nothing is imported, so the test sees imports inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: source directory -> package name it is installed as
PACKAGES = {ROOT / "fastscape": "fastscape", ROOT / "kernels": "fastscape.kernels"}


def module_sources() -> dict[str, Path]:
    """{dotted module name: file} for every module of the installed package."""
    out = {}
    for src, pkg in PACKAGES.items():
        for path in sorted(src.rglob("*.py")):
            rel = path.relative_to(src).with_suffix("").parts
            if rel[-1] == "__init__":
                rel = rel[:-1]
            out[".".join((pkg, *rel))] = path
    return out


def _is_package(name: str, modules) -> bool:
    return any(other.startswith(name + ".") for other in modules)


def _resolve(module: str, level: int, target: str | None, modules) -> str:
    """Absolute name of ``from <level dots><target> import ...`` written in ``module``."""
    if level == 0:
        return target or ""
    base = module.split(".")
    if not _is_package(module, modules):
        base = base[:-1]  # a plain module: its package is the anchor
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _known(name: str, modules) -> str | None:
    """The longest prefix of ``name`` that is one of our modules (None: third party)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        cand = ".".join(parts[:n])
        if cand in modules:
            return cand
    return None


def parse_imports(module: str, tree: ast.AST, modules) -> tuple[set[str], list[str]]:
    """(modules ``module`` imports, private names it takes from other modules).

    Importing ``a.b.c`` runs the ``__init__`` of every package on the way that is not
    already an ancestor of ``module`` (``a.b`` from ``a.x``), and always the target
    itself: ``from a import f`` (``f`` not a module) and ``import a`` depend on the
    package top, the case that closes a cycle through ``__init__``. ``from p import m``
    with ``m`` a module depends on ``m``. Private: ``from m import _x`` of another module,
    and ``alias._x`` on a name bound to one of our modules by an import.
    """
    edges: set[str] = set()
    private: list[str] = []
    aliases: dict[str, str] = {}
    ancestors = {".".join(module.split(".")[:n]) for n in range(1, module.count(".") + 1)}

    def add(target: str) -> None:
        parts = target.split(".")
        for n in range(1, len(parts)):
            cand = ".".join(parts[:n])
            if cand in modules and cand not in ancestors and cand != module:
                edges.add(cand)
        if target != module:
            edges.add(target)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                target = _known(a.name, modules)
                if target:
                    add(target)
                    top = a.name.split(".")[0]
                    aliases[a.asname or top] = target if a.asname else top
        elif isinstance(node, ast.ImportFrom):
            src = _resolve(module, node.level, node.module, modules)
            base = _known(src, modules)
            if base is None:
                continue
            for a in node.names:
                full = f"{src}.{a.name}"
                if full in modules:
                    add(full)
                    aliases[a.asname or a.name] = full
                else:
                    add(base)
                    if a.name.startswith("_") and not a.name.startswith("__") and src != module:
                        private.append(f"{module}: from {src} import {a.name}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and aliases[node.value.id] != module
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            private.append(f"{module}: {node.value.id}.{node.attr} ({aliases[node.value.id]})")
    return edges, private


def import_graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = module_sources()
    graph, private = {}, []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name], priv = parse_imports(name, tree, modules)
        private.extend(priv)
    return graph, private


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle [a, b, ..., a] of the directed graph, or None (iterative DFS)."""
    colour = dict.fromkeys(graph, 0)  # 0 new, 1 on the stack, 2 done
    for start in sorted(graph):
        if colour[start]:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        colour[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour.get(nxt, 2) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif colour.get(nxt, 2) == 0:
                colour[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(sorted(graph[nxt]))))
    return None


def _graph_of(sources: dict[str, str]):
    modules = {name: None for name in sources}
    graph, private = {}, []
    for name, text in sources.items():
        graph[name], priv = parse_imports(name, ast.parse(text), modules)
        private.extend(priv)
    return graph, private


def test_no_import_cycle():
    graph, _ = import_graph()
    assert len(graph) > 20  # every module was found
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_private_imports_across_modules():
    _, private = import_graph()
    assert private == [], "private names used across modules:\n" + "\n".join(private)


def test_detects_a_cycle_through_the_package_init():
    graph, _ = _graph_of(
        {
            "pkg": "from .a import f\n",
            "pkg.a": "def f():\n    from .b import g\n    return g()\n",
            "pkg.b": "def g():\n    from pkg import f\n",  # b -> pkg -> a -> b
        }
    )
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1]
    assert set(cycle) == {"pkg", "pkg.a", "pkg.b"}


def test_detects_a_cycle_between_sibling_modules_and_none_in_a_tree():
    cyclic, _ = _graph_of(
        {
            "pkg": "",
            "pkg.a": "from . import b\n",
            "pkg.b": "def h():\n    import pkg.a as x\n",
        }
    )
    assert set(find_cycle(cyclic)) == {"pkg.a", "pkg.b"}
    tree, _ = _graph_of(
        {
            "pkg": "from .a import f\nfrom .b import g\n",
            "pkg.a": "from .c import h\n",
            "pkg.b": "from .c import h\nimport numpy\n",
            "pkg.c": "import math\n",
        }
    )
    assert find_cycle(tree) is None


def test_detects_private_imports():
    _, private = _graph_of(
        {
            "pkg": "",
            "pkg.a": "_x = 1\ndef _y(): pass\n",
            "pkg.b": "from .a import _x\nfrom . import a\nz = a._y\nfrom .a import __doc__\n",
        }
    )
    assert private == ["pkg.b: from pkg.a import _x", "pkg.b: a._y (pkg.a)"]


@pytest.mark.parametrize("name", ["fastscape.kernels", "fastscape.theory.counting"])
def test_module_names(name):
    assert name in module_sources()
