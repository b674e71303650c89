"""Importing an optional dependency when a feature first needs it.

``import seqnn`` never imports an optional package (matplotlib for
:mod:`seqnn.plot`, tensorboardX for :class:`seqnn.callbacks.TensorBoard`);
the feature calls :func:`require` when it is used, and a missing package
becomes one ``ModuleNotFoundError`` (an ``ImportError``) that says which pip
package and which seqnn extra bring it.
"""
from __future__ import annotations

import importlib
from types import ModuleType

# The name seqnn is installed under (the import name ``seqnn`` is someone else's on the package index).
DISTRIBUTION = "seqnn-ml"


def missing_message(feature: str, package: str, extra: str) -> str:
    """The one-line explanation for a missing optional package.

    Args:
        feature: what needs the package, as the user called it ("seqnn.plot.history").
        package: its name on the package index ("matplotlib").
        extra: the seqnn extra that installs it ("plots").
    """
    return f"{feature} needs {package}, which is not installed: {install_hint(package, extra)}"


def install_hint(package: str, extra: str) -> str:
    """How to install ``package``: by itself, or through the seqnn extra that brings it."""
    return (f"pip install {package} "
            f"(or seqnn's {extra!r} extra: pip install \"{DISTRIBUTION}[{extra}]\", or \".[{extra}]\" in a clone)")


def require(module: str, extra: str, feature: str, package: str | None = None) -> ModuleType:
    """Import the top-level package ``module`` and return it.

    Args:
        module: the import name ("matplotlib", "tensorboardX").
        extra: the seqnn extra that installs it.
        feature: what needs it, for the message.
        package: its name on the package index when that differs from ``module``.

    Returns:
        The imported module.

    Raises:
        ModuleNotFoundError: ``module`` is not installed; the message names the
            pip package and the extra. An installed package that fails to
            import for another reason (one of its own dependencies missing)
            raises its own error unchanged, since that message is the useful one.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name != module:
            raise
        raise ModuleNotFoundError(missing_message(feature, package or module, extra), name=module) from None
