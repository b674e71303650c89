"""Exceptions that seqnn raises for user mistakes.

They subclass the built-in ``ValueError`` / ``TypeError`` so that code written
against Keras (which raises those) catches them unchanged, and carry
:class:`UserInputError`, which tells the console commands to report them as
a mistake in one line rather than as a bug with a traceback.
"""


class UserInputError(Exception):
    """Mixin of the errors that seqnn raises for a mistake in what it was given (an argument, a file, a name).

    Combined with a built-in type (``class DataFileError(UserInputError,
    ValueError)``); ``seqnn-train`` and ``seqnn-predict`` report such an
    error as one line and exit with status 2.
    """


class NotCompiledError(UserInputError, ValueError):
    """A model was trained or evaluated before ``compile()`` was called."""


class UnknownNameError(UserInputError, ValueError):
    """A string identifier (layer, loss, optimizer, backend, ...) is not registered."""


class BackendUnavailableError(UserInputError, ValueError):
    """A backend was asked for that cannot run on this machine."""


class InputRangeWarning(UserWarning):
    """``predict`` or ``evaluate`` got inputs far outside the range of those the model was trained on.

    Usually unscaled data (pixels in 0..255 for a model trained on 0..1).
    Silence it, once you know the inputs are right, with
    ``warnings.filterwarnings("ignore", category=seqnn.errors.InputRangeWarning)``.
    """
