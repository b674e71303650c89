"""The structure the guarantees rest on: ``seqnn.saving`` is file I/O that imports nothing else from seqnn,
rebuilding models lives with the models, and callbacks reach saving only through the model's public methods."""
import ast
import os
import subprocess
import sys

import pytest

import seqnn

PACKAGE = os.path.dirname(seqnn.__file__)


def imports_of(path):
    """Every module a file imports at its top level or inside a function, as absolute names."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    package = "seqnn." + os.path.relpath(os.path.dirname(path), PACKAGE).replace(os.sep, ".")
    package = package.rstrip(".").replace("seqnn..", "seqnn.")
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            names.append(module)
    return names


@pytest.mark.parametrize("name", sorted(n for n in os.listdir(os.path.join(PACKAGE, "saving")) if n.endswith(".py")))
def test_saving_imports_nothing_else_from_seqnn(name):
    inside = [m for m in imports_of(os.path.join(PACKAGE, "saving", name))
              if m.split(".")[0] == "seqnn" and not m.startswith("seqnn.saving")]
    assert inside == [], f"seqnn/saving/{name} imports {inside}"


def test_keras_names_in_seqnn_saving_still_work():
    from seqnn import saving

    assert saving.load_model is seqnn.load_model and saving.custom_object_scope is seqnn.registry.custom_object_scope
    assert {"load_model", "save_model", "custom_object_scope", "serialize_keras_object",
            "deserialize_keras_object", "KerasFileNameWarning", "model_from_json"} <= set(dir(saving))
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        getattr(saving, "nope")


def test_callback_list_does_not_import_backup_and_restore():
    assert not [m for m in imports_of(os.path.join(PACKAGE, "callbacks", "callback_list.py"))
                if "backup" in m]


def test_no_callback_imports_saving_or_models():
    for name in os.listdir(os.path.join(PACKAGE, "callbacks")):
        if name.endswith(".py"):
            bad = [m for m in imports_of(os.path.join(PACKAGE, "callbacks", name))
                   if m.startswith(("seqnn.saving", "seqnn.models"))]
            assert bad == [], f"seqnn/callbacks/{name} imports {bad}"


@pytest.mark.parametrize("module", ["seqnn.callbacks", "seqnn.saving", "seqnn.models", "seqnn.models.loading",
                                    "seqnn.callbacks.backup_and_restore", "seqnn.saving.safetensors_file"])
def test_every_package_imports_first_without_a_cycle(module):
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
