"""setuptools shim: metadata lives in setup.cfg.

The only thing that needs code is the package map: the Metal kernel sources
live at the top level in ``kernels/`` (one ``.metal`` file per kernel family)
and are installed inside the package as ``seqnn.kernels``, where the Metal
backend reads them with ``importlib.resources``.
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["seqnn", "seqnn.*"]) + ["seqnn.kernels"],
    package_dir={"seqnn.kernels": "kernels"},
    package_data={"seqnn.kernels": ["*.metal", "*.h"], "seqnn.datasets": ["data/*"]},
)
