"""How the console commands report mistakes: one line on stderr, exit status 2, no traceback.

A user mistake is anything seqnn raises as ``ValueError`` / ``TypeError``
(bad data, an unknown name, a file that is not what it claims), a missing or
unreadable file, or a :class:`UsageError` raised by the command itself.
Anything else is a bug and keeps its traceback. ``SEQNN_DEBUG=1`` shows the
traceback for user mistakes too.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
_USER_OS_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


class UsageError(Exception):
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
    """Call ``main(argv)`` and return the command's exit status.

    0: done. 2: a user mistake, reported as one line on stderr. 130:
    interrupted (Ctrl-C). 1: the reader of stdout went away. argparse's own
    exits (``--help``, ``--version``, a bad command line) are returned as
    their status too, so that ``main`` called from Python never raises
    SystemExit.
    """
    try:
        return int(main(argv) or 0)
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        raise
    except (UsageError, ValueError, TypeError, *_USER_OS_ERRORS) as e:
        if os.environ.get("SEQNN_DEBUG"):
            raise
        print(f"{prog}: error: {one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly; point stdout at devnull so the
        # interpreter's final flush does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
