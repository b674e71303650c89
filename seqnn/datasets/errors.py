"""The error every data reader raises for a file that cannot be read as what it claims to be."""
from __future__ import annotations

from ..errors import UserInputError


class DataFileError(UserInputError, ValueError):
    """A data file (IDX, NPY, NPZ, CSV, image) whose bytes are not a valid instance of its format.

    A ``ValueError`` (DESIGN.md: a bad file is a user mistake, ``OSError`` is
    left to the operating system's own failures) whose message names the file:
    ``"PATH: PROBLEM"`` unless ``message`` words it otherwise (it must still
    contain the path). ``path`` and ``problem`` are kept for code that wants
    them apart.
    """

    def __init__(self, path: str, problem: str, message: str | None = None):
        super().__init__(f"{path}: {problem}" if message is None else message)
        self.path = path
        self.problem = problem

    def __reduce__(self):  # keep it picklable (multiprocessing, pytest-xdist) despite the extra arguments
        return type(self), (self.path, self.problem, str(self))
