"""Shared fixtures: a fixed global seed and fresh automatic names per test, and the MNIST location."""
import os

import numpy as np
import pytest

import seqnn as sn

# The conformance suite's fixtures: b (each backend under test) and fp (its float dtype).
pytest_plugins = ("conformance",)


@pytest.fixture(autouse=True)
def _fixed_seed():
    sn.utils.set_random_seed(1234)
    sn.utils.clear_session()  # layer names start again at "dense", as in a fresh process
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def mnist_dir():
    """The directory holding the MNIST IDX files (from SEQNN_DATA_DIR); skips when absent."""
    path = os.environ.get("SEQNN_DATA_DIR")
    if not path or not os.path.isfile(os.path.join(path, "train-images-idx3-ubyte.gz")):
        pytest.skip("MNIST not available: set SEQNN_DATA_DIR to a directory with the IDX files")
    return path
