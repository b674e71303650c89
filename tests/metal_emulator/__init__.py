"""The MSL emulator: proves the project's Metal kernels on machines without Metal.

``from metal_emulator import metalcompute`` (tests/ is on pytest's path) gives
the emulated metalcompute module; code that does ``import metalcompute`` gets
it when this directory is first on ``sys.path``.  README.md explains the
design and its limits.
"""
from pathlib import Path

SELFTEST_DIR = Path(__file__).resolve().parent / "selftest"
