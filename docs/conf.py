"""Sphinx configuration. ``sphinx-build -b doctest docs <out>`` runs every example in these pages."""
import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import seqnn  # noqa: E402

project = "seqnn"
author = "the seqnn developers"
release = version = seqnn.__version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.doctest"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
exclude_patterns = ["_build"]
html_theme = "alabaster"
doctest_global_setup = """
import numpy as np
import seqnn as sn
sn.utils.set_random_seed(0)
sn.utils.clear_session()  # each page's layer names start at "dense", as in a fresh script
"""
