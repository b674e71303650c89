"""Exceptions that seqnn raises for user mistakes.

They subclass the built-in ``ValueError`` / ``TypeError`` so that code written
against Keras (which raises those) catches them unchanged.
"""


class NotCompiledError(ValueError):
    """A model was trained or evaluated before ``compile()`` was called."""


class UnknownNameError(ValueError):
    """A string identifier (layer, loss, optimizer, backend, ...) is not registered."""


class BackendUnavailableError(ValueError):
    """A backend was asked for that cannot run on this machine."""
