"""The exceptions of the emulated metalcompute module.

metalcompute 0.2.9 raises one exception type, ``metalcompute.error``, for every
failure (compilation, missing function, bad arguments).  The emulator keeps
that type as the base, so code written for the real module catches the same
thing, and adds subclasses for what only the emulator can see.
"""


class error(Exception):  # noqa: N801 - the name metalcompute gives it
    """Any failure, as ``metalcompute.error`` on a Mac."""


class CompileError(error):
    """The source is not MSL the emulator accepts (or not C++ after the prelude)."""


class KernelFault(error):
    """A kernel did something that is undefined on a GPU: wrote outside a
    buffer, reached a barrier in divergent control flow, read a finished
    lane, gave a result that depends on the order threads run in."""
