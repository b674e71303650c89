"""The API reference documents every public name of seqnn, and every public object has a docstring.

The reference is docs/api.rst and docs/api/*.rst: explicit autodoc directives
(``.. autoclass:: Dense``) and, for Keras's alternative spellings and the
numpy functions of ``seqnn.ops``, plain ``py:`` directives. These tests parse
those files (no Sphinx build, so they run in the default suite in a fraction
of a second) and compare them with the public names: ``__all__`` of every
public module, or for a module without ``__all__`` the names it defines.
A new public name without an entry fails here, naming the page to add it to.
"""
from __future__ import annotations

import importlib
import inspect
import os
import re
import types

import pytest

import seqnn

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")

# Public modules that no ``__all__`` lists (seqnn.plot loads lazily; seqnn.errors is imported where needed).
EXTRA_MODULES = ("seqnn.plot", "seqnn.errors")
# The registry API that each kind of object has (layers.get, losses.register, ...).
REGISTRY_API = {"get", "register", "registry", "serialize"}

DIRECTIVE = re.compile(r"^\.\.\s+(auto(?:module|class|function|exception|data|method|attribute|decorator)"
                       r"|py:(?:module|currentmodule|class|function|data|exception|decorator|method|attribute)"
                       r"|currentmodule)::\s*([\w.]+)")
OPTION = re.compile(r"^\s+:([\w-]+):\s*(.*)$")


# ------------------------------------------------------------------ the code's public names ---
def public_modules() -> list[str]:
    """seqnn, every module its ``__all__`` lists (recursively), and EXTRA_MODULES."""
    found, todo = [], ["seqnn", *EXTRA_MODULES]
    while todo:
        name = todo.pop(0)
        if name in found:
            continue
        found.append(name)
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            value = getattr(module, attr)
            if isinstance(value, types.ModuleType) and value.__name__.startswith("seqnn."):
                todo.append(value.__name__)
    return found


def public_names(module_name: str) -> list[str]:
    """``__all__``; without it, the registry API and what the module itself defines (classes, functions, and
    instances of its classes, such as ``activations.relu``), never imported helpers or constants."""
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return list(module.__all__)
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        defined_here = getattr(value, "__module__", None) == module_name
        instance_of_own_class = (not isinstance(value, (type, types.FunctionType))
                                 and type(value).__module__ == module_name)
        if name in REGISTRY_API or defined_here or instance_of_own_class:
            names.append(name)
    return sorted(names)


def all_public() -> list[tuple[str, str, object]]:
    """``(module, name, object)`` for every public name."""
    out = []
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        out += [(module_name, name, getattr(module, name)) for name in public_names(module_name)]
    return out


def docstring(obj) -> str:
    """The object's own docstring; for an instance (a registry, ``activations.relu``), its class's."""
    if isinstance(obj, (type, types.ModuleType)) or inspect.isroutine(obj):
        doc = obj.__doc__
    else:
        doc = type(obj).__doc__
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


# ----------------------------------------------------------------- what the reference says ---
def reference_pages() -> list[str]:
    pages = [os.path.join(DOCS, "api.rst")]
    api_dir = os.path.join(DOCS, "api")
    pages += sorted(os.path.join(api_dir, f) for f in os.listdir(api_dir) if f.endswith(".rst"))
    return pages


def parse_reference() -> tuple[dict[str, str], dict[str, dict]]:
    """``documented``: fully qualified name → page, for every directive; ``classes``: class name → its
    ``members`` list and whether ``:undoc-members:`` is set, for every autoclass with a ``:members:`` list."""
    documented: dict[str, str] = {}
    classes: dict[str, dict] = {}
    for page in reference_pages():
        current = "seqnn"
        with open(page, encoding="utf-8") as file:
            lines = file.read().splitlines()
        i = 0
        while i < len(lines):
            match = DIRECTIVE.match(lines[i])
            i += 1
            if not match:
                continue
            kind, name = match.groups()
            if kind in ("currentmodule", "py:currentmodule"):
                current = name
                continue
            if kind in ("automodule", "py:module"):
                current = full = name
            else:
                full = name if name.startswith("seqnn.") else f"{current}.{name}"
            documented[full] = os.path.relpath(page, DOCS)
            options, last = {}, None
            while i < len(lines) and (lines[i].startswith(" ") and lines[i].strip()):
                option = OPTION.match(lines[i])
                if option:
                    last = option.group(1)
                    options[last] = option.group(2)
                elif last:  # a continuation line of the previous option
                    options[last] += " " + lines[i].strip()
                i += 1
            members = [m.strip() for m in options.get("members", "").split(",") if m.strip()]
            if kind == "automodule":
                for member in members:
                    documented[f"{full}.{member}"] = documented[full]
            elif kind == "autoclass" and "members" in options:
                classes[full] = {"members": members, "undoc": "undoc-members" in options}
    return documented, classes


def resolve(dotted: str):
    """The object a dotted name stands for (module path first, then attributes)."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attr in parts[split:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


DOCUMENTED, CLASSES = parse_reference()


def page_for(module_name: str) -> str:
    """Where a module's names are documented (for the failure message)."""
    pages = sorted({page for name, page in DOCUMENTED.items() if name == module_name})
    return pages[0] if pages else "docs/api/<page>.rst"


# -------------------------------------------------------------------------------- tests ---
def test_every_public_name_is_in_the_api_reference():
    by_object: dict[int, list[str]] = {}
    for name in DOCUMENTED:
        try:
            by_object.setdefault(id(resolve(name)), []).append(name)
        except (ImportError, AttributeError):
            pass  # test_every_documented_name_exists reports it
    missing = []
    for module_name, name, obj in all_public():
        full = f"{module_name}.{name}"
        if isinstance(obj, types.ModuleType):
            covered = obj.__name__ in DOCUMENTED
        else:
            # A re-export (seqnn.Input is seqnn.layers.Input) is covered by the entry of the same object under
            # the same name; an alias under another name (MaxPool2D) needs its own entry.
            covered = full in DOCUMENTED or (
                (inspect.isclass(obj) or inspect.isroutine(obj))
                and any(other.rsplit(".", 1)[-1] == name for other in by_object.get(id(obj), ())))
        if not covered:
            missing.append(f"{full} (add it to {page_for(module_name)})")
    assert not missing, f"{len(missing)} public names are not in the API reference:\n  " + "\n  ".join(missing)


def test_every_documented_name_exists():
    stale = []
    for name, page in DOCUMENTED.items():
        try:
            resolve(name)
        except (ImportError, AttributeError):
            stale.append(f"{name} ({page})")
    assert not stale, "the API reference documents names that do not exist:\n  " + "\n  ".join(stale)


def test_every_public_object_has_a_docstring():
    undocumented = [f"{module_name}.{name}" for module_name, name, obj in all_public()
                    if not isinstance(obj, str) and not docstring(obj)]
    assert not undocumented, "public objects without a docstring:\n  " + "\n  ".join(undocumented)


def member_docstring(cls, name: str) -> str:
    static = inspect.getattr_static(cls, name)
    doc = static.__doc__ if isinstance(static, property) else getattr(cls, name).__doc__
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


def test_listed_class_members_exist_and_have_docstrings():
    problems = []
    for class_name, spec in CLASSES.items():
        cls = resolve(class_name)
        for member in spec["members"]:
            if not hasattr(cls, member):
                problems.append(f"{class_name}.{member}: no such member")
            elif not spec["undoc"] and not member_docstring(cls, member):
                problems.append(f"{class_name}.{member}: no docstring")
    assert not problems, "\n".join(problems)


def test_the_model_api_is_documented_whole():
    """Every public method and property that Sequential and its training loop define is in its entry."""
    from seqnn.models.trainer import Trainer

    listed = set(CLASSES["seqnn.Sequential"]["members"])
    own = {name for cls in (seqnn.Sequential, Trainer) for name in vars(cls) if not name.startswith("_")}
    assert own <= listed, f"add to Sequential's :members: in docs/api/models.rst: {sorted(own - listed)}"


def test_the_reference_covers_what_it_claims():
    """Sanity check of the parser itself: the counts the reference is known to have, as lower bounds."""
    assert len(DOCUMENTED) > 300
    assert {"seqnn.Sequential", "seqnn.layers.Dense", "seqnn.layers.MaxPool2D", "seqnn.losses.mse",
            "seqnn.callbacks.EarlyStopping", "seqnn.metrics.F1Score", "seqnn.ops.sum"} <= set(DOCUMENTED)


@pytest.mark.parametrize("page", [os.path.relpath(p, DOCS) for p in reference_pages()[1:]])
def test_every_reference_page_is_in_the_toctree(page):
    with open(os.path.join(DOCS, "api.rst"), encoding="utf-8") as file:
        toctree = file.read()
    assert re.search(rf"^\s+{re.escape(page[:-4])}\s*$", toctree, re.MULTILINE), f"{page} is not in api.rst's toctree"
