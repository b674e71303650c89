"""How the console commands report errors: a user mistake in one line (exit 2), anything else with its traceback.

A user mistake is an error that seqnn raises on purpose about what it was
given: a :class:`~seqnn.errors.UserInputError` (:class:`UsageError`, a data
file that cannot be read, an unknown name, an unavailable backend, ...), a
``ValueError`` / ``TypeError`` raised by one of seqnn's own checks (a
``raise`` statement inside the seqnn package), or a missing or unreadable
file. Such an error is reported as one line on stderr, exit status 2, naming
the line of the user's ``--model`` file it came from when there is one.

Anything else (an error in the user's ``build_model()``, a SyntaxError in a
``--model`` file, a bug in seqnn) is reported with the traceback of the
user's code (seqnn's and the libraries' frames hidden, but for the one that
raised), exit status 1. ``SEQNN_DEBUG=1`` shows the full traceback of any
error.
"""
from __future__ import annotations

import argparse
import os
import sys
import sysconfig
import traceback
import warnings
from typing import Callable, Sequence

from ..errors import UserInputError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
_USER_OS_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


EXIT_BUG = 1
DEBUG_HINT = "SEQNN_DEBUG=1 shows the full traceback of any error"
_SEQNN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_LIBRARY_DIRS = tuple({os.path.abspath(p) + os.sep for p in (sysconfig.get_paths()[k] for k in
                                                            ("stdlib", "platstdlib", "purelib", "platlib"))})


class UsageError(UserInputError):
    """A mistake in how a command was called; its message is shown as is."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line gives one line on stderr (and exit 2) instead of usage + error."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def one_line(error: BaseException) -> str:
    """The error as one line of text: file errors as "PATH: reason", whitespace collapsed."""
    if isinstance(error, OSError) and error.filename is not None:
        text = f"{error.filename}: {error.strerror or error}"
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())


def run(prog: str, main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None) -> int:
    """Call ``main(argv)`` and return the command's exit status; warnings are printed as ``prog: warning: ...``.

    0: done. 2: a user mistake, reported as one line on stderr. 1: any
    other error (reported with the user's traceback), or the reader of
    stdout went away. 130: interrupted (Ctrl-C). argparse's own
    exits (``--help``, ``--version``, a bad command line) are returned as
    their status too, so that ``main`` called from Python never raises
    SystemExit.
    """
    try:
        with warnings.catch_warnings():
            # A warning reads like an error: "prog: warning: message", without the Python line it came from.
            warnings.showwarning = lambda message, *_args, **_kwargs: print(
                f"{prog}: warning: {' '.join(str(message).split())}", file=sys.stderr)
            return int(main(argv) or 0)
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        raise
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly; point stdout at devnull so the
        # interpreter's final flush does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as e:
        if os.environ.get("SEQNN_DEBUG"):
            raise
        if is_user_mistake(e):
            user = _user_frames(e)
            where = f" (from {user[-1].filename}, line {user[-1].lineno})" if user else ""
            print(f"{prog}: error: {one_line(e)}{where}", file=sys.stderr)
            return EXIT_USAGE
        print(f"{prog}: error: {type(e).__name__} (in the model file's code, or a bug in seqnn):\n"
              f"{user_traceback(e)}{prog}: {DEBUG_HINT}", file=sys.stderr)
        return EXIT_BUG


def is_user_mistake(error: BaseException) -> bool:
    """Whether ``error`` reports a mistake in what the command was given, rather than a bug (module docstring)."""
    if isinstance(error, (UserInputError, *_USER_OS_ERRORS)):
        return True
    if not isinstance(error, (ValueError, TypeError)) or isinstance(error, SyntaxError):
        return False
    frames = traceback.extract_tb(error.__traceback__)
    # A check raises on purpose; an operation that fails (None + 1, a bad reshape) is a bug.
    return bool(frames) and _in_seqnn(frames[-1].filename) and (frames[-1].line or "").startswith("raise")


def user_traceback(error: BaseException) -> str:
    """The traceback of ``error`` with only the user's frames and the frame that raised it; then the error."""
    frames = traceback.extract_tb(error.__traceback__)
    shown = traceback.StackSummary.from_list(
        [f for i, f in enumerate(frames) if i == len(frames) - 1 or _is_users(f.filename)])
    head = "Traceback (most recent call last; seqnn's and the libraries' frames left out):\n" if shown else ""
    return head + "".join(shown.format()) + "".join(traceback.format_exception_only(type(error), error))


def _user_frames(error: BaseException) -> list:
    return [f for f in traceback.extract_tb(error.__traceback__) if _is_users(f.filename)]


def _in_seqnn(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_SEQNN_DIR)


def _is_users(filename: str) -> bool:
    """A frame of the user's code: neither seqnn, nor the standard library or installed packages."""
    if filename.startswith("<"):  # <frozen importlib._bootstrap> and the like
        return False
    path = os.path.abspath(filename)
    return not path.startswith(_SEQNN_DIR) and not path.startswith(_LIBRARY_DIRS)
