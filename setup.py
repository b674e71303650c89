"""setuptools shim: metadata lives in setup.cfg.

Two things need code. The package map: the Metal kernel sources live at the
top level in ``kernels/`` (one ``.metal`` file per kernel family) and are
installed inside the package as ``seqnn.kernels``, where the Metal backend
reads them with ``importlib.resources``. And the source distribution: it
carries what its own test run and docs build need (tests, examples, docs,
benchmarks), which setuptools leaves out by default.
"""
import os

from setuptools import find_packages, setup
from setuptools.command.egg_info import egg_info

SDIST_TREES = ("tests", "examples", "docs", "benchmarks", ".ci")
SKIPPED_DIRS = {"__pycache__", "_build", ".pytest_cache"}


class EggInfoWithTests(egg_info):
    """The file list the sdist is made from (egg_info builds it) gets the trees in SDIST_TREES too."""

    def find_sources(self):
        super().find_sources()
        for tree in SDIST_TREES:
            for directory, subdirectories, files in os.walk(tree):
                subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRS)
                self.filelist.extend(os.path.join(directory, f) for f in sorted(files) if not f.endswith(".pyc"))


setup(
    packages=find_packages(include=["seqnn", "seqnn.*"]) + ["seqnn.kernels"],
    package_dir={"seqnn.kernels": "kernels"},
    package_data={"seqnn.kernels": ["*.metal", "*.h"], "seqnn.datasets": ["data/*"]},
    cmdclass={"egg_info": EggInfoWithTests},
)
