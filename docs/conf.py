"""Sphinx configuration.

``sphinx-build -b doctest docs <out>`` runs every example in these pages, and
every build (html or doctest) runs the scripts in ``examples/`` through
sphinx-gallery, which renders them with their printed output and figures into
``docs/auto_examples`` (generated, not committed). The examples take their
defaults, except the MNIST ones, which train on part of the data for one
epoch and run only where the MNIST files are on disk (``$SEQNN_DATA_DIR`` or
the cache): see ``_ext/seqnn_gallery.py``.
"""
import doctest
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "_ext"))

import seqnn  # noqa: E402

project = "seqnn"
author = "the seqnn authors"
copyright = "2026, the seqnn authors"
release = version = seqnn.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx_gallery.gen_gallery",
]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autosummary_generate = False  # the API pages document every name explicitly; the tables only link to them
napoleon_google_docstring = True
napoleon_numpy_docstring = False
exclude_patterns = ["_build", "_ext"]

html_theme = "furo"
html_title = f"seqnn {release}"
html_static_path = ["_static"]
html_css_files = ["seqnn.css"]
html_show_sourcelink = False

# Sphinx's defaults without IGNORE_EXCEPTION_DETAIL: the error messages the guides show are checked too.
# ELLIPSIS (only for what varies between runs: timings, paths) and NORMALIZE_WHITESPACE are set per example.
doctest_default_flags = doctest.DONT_ACCEPT_TRUE_FOR_1
doctest_global_setup = """
import numpy as np
import seqnn as sn
sn.utils.set_random_seed(0)
sn.utils.clear_session()  # each page's layer names start at "dense", as in a fresh script
"""


def _mnist_on_disk() -> bool:
    """Whether the MNIST files are where ``seqnn.datasets.mnist.load_data()`` looks first (no download)."""
    stems = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    env = os.environ.get("SEQNN_DATA_DIR")
    dirs = ([os.path.join(env, "mnist"), env] if env else []) + [os.path.expanduser("~/.cache/seqnn/datasets/mnist")]
    return any(all(os.path.isfile(os.path.join(d, s)) or os.path.isfile(os.path.join(d, s + ".gz")) for s in stems)
               for d in dirs)


_EXECUTED = ["quickstart", "training_plots", "custom_callback", "regression_csv", "resume_training"]
if _mnist_on_disk():
    _EXECUTED += ["mnist_mlp", "mnist_cnn"]

sphinx_gallery_conf = {
    "examples_dirs": os.path.join(os.path.dirname(HERE), "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"[\\/](" + "|".join(_EXECUTED) + r")\.py$",
    "within_subsection_order": "seqnn_gallery.ExampleOrder",
    "reset_argv": "seqnn_gallery.reset_argv",
    "image_scrapers": ("matplotlib", "seqnn_gallery.figure_scraper"),
    "reset_modules": ("matplotlib", "seqnn_gallery.reset_seqnn"),
    "capture_repr": (),
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "line_numbers": False,
    "min_reported_time": 10,
}
