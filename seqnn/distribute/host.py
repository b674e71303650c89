"""Host (numpy) access to backend arrays for MPI, which sends and receives host memory."""
from __future__ import annotations

import numpy as np


def host_view(backend, array) -> np.ndarray:
    """A contiguous numpy array with ``array``'s values: ``array`` itself where it is host memory, else a copy."""
    return np.ascontiguousarray(backend.to_numpy(array))


def write_back(backend, array, host: np.ndarray) -> None:
    """Make ``array`` hold ``host``'s values, unless ``host`` is ``array``'s own memory already."""
    if isinstance(array, np.ndarray) and np.shares_memory(array, host):
        return
    backend.copy_into(array, host)
