"""Where the Metal kernel sources are read from.

The sources live at the top of the repository in ``kernels/`` and are
installed inside the package as ``seqnn.kernels`` (setup.py maps the
directory), so an installed seqnn reads them through ``importlib.resources``.
A source checkout imported directly (the repository root on ``sys.path``, or
an editable install whose finder cannot map a directory without
``__init__.py``) has no ``seqnn.kernels``; there the files sit beside the
package, in ``<repository>/kernels``.
"""
from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path


@functools.cache
def kernel_source(family: str) -> str:
    """The MSL text of kernels/<family>.metal."""
    name = f"{family}.metal"
    try:
        resource = importlib.resources.files("seqnn.kernels") / name
        if resource.is_file():
            return resource.read_text(encoding="utf-8")
    except ModuleNotFoundError:
        pass
    path = Path(__file__).resolve().parents[3] / "kernels" / name
    if not path.is_file():
        raise FileNotFoundError(f"Metal kernel source {name!r} not found in the seqnn.kernels package "
                                f"nor at {path}; reinstall seqnn")
    return path.read_text(encoding="utf-8")
