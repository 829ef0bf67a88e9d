"""Type hints on the public layer: every parameter and return of every public name.

The names are those of ``__all__`` in the package and its public modules (classes:
their public methods and ``__init__``). ``mypy fastscape`` (the test extra, see
pyproject.toml) checks that the hints are consistent; this test checks they exist.
"""

from __future__ import annotations

import importlib
import importlib.resources
import inspect

import pytest

MODULES = [
    "fastscape",
    "fastscape.theory",
    "fastscape.critical",
    "fastscape.deep",
    "fastscape.deep_sweep",
    "fastscape.derivatives",
    "fastscape.inertia",
    "fastscape.landscape",
    "fastscape.moments",
    "fastscape.network",
    "fastscape.plot",
    "fastscape.pointset",
    "fastscape.residual",
    "fastscape.slices",
    "fastscape.verify",
]


def _public_callables():
    seen = {}
    for modname in MODULES:
        mod = importlib.import_module(modname)
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if inspect.isfunction(obj):
                seen[f"{obj.__module__}.{obj.__qualname__}"] = obj
            elif inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if isinstance(member, (classmethod, staticmethod)):
                        member = member.__func__
                    if isinstance(member, property):
                        member = member.fget
                    if not inspect.isfunction(member):
                        continue
                    if attr.startswith("_") and attr != "__init__":
                        continue
                    seen[f"{obj.__module__}.{obj.__qualname__}.{attr}"] = member
    return seen


def _missing(fn) -> list[str]:
    sig = inspect.signature(fn)
    out = [
        name
        for name, par in sig.parameters.items()
        if name not in ("self", "cls") and par.annotation is inspect.Parameter.empty
    ]
    if fn.__name__ != "__init__" and sig.return_annotation is inspect.Signature.empty:
        out.append("return")
    return out


def test_public_layer_is_fully_annotated():
    missing = {name: m for name, fn in sorted(_public_callables().items()) if (m := _missing(fn))}
    assert missing == {}, "public callables without type hints:\n" + "\n".join(
        f"{name}: {', '.join(m)}" for name, m in missing.items()
    )


def test_enough_names_are_checked():
    names = _public_callables()
    assert len(names) > 60
    for must in ("fastscape.critical.critical_points", "fastscape.moments.Moments.rank"):
        assert must in names


@pytest.mark.parametrize("name", ["py.typed"])
def test_py_typed_is_shipped(name):
    import fastscape

    assert (importlib.resources.files(fastscape) / name).is_file()
