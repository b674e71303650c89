"""Compiles a translation unit into a shared library, once, cached by content.

The cache lives in ``$SEQNN_MSL_CACHE`` or ``~/.cache/seqnn/msl-emulator``.
A library's name is the hash of everything that affects it (the generated
C++, the emulator's headers and runtime, the compiler and its flags), so a
stale entry is never reused and nothing needs invalidating.  Files are
written under a temporary name and renamed into place, so pytest processes
sharing the cache never see a half-written library.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ._errors import CompileError

EMULATOR_DIR = Path(__file__).resolve().parent.parent
HEADERS = ("prelude.h", "msl_abi.h", "msl_types.h", "msl_math.h", "msl_sync.h", "msl_simd.h",
           "include/metal_stdlib")
RUNTIME = "runtime.cpp"

_COMMON_FLAGS = ["-std=c++17", "-O1", "-fPIC", "-fvisibility=hidden", "-fno-exceptions", "-fno-rtti",
                 # MSL has no fast-math contraction guarantees either way; keep IEEE results.
                 "-ffp-contract=off", "-U_FORTIFY_SOURCE"]
# The kernel side sees no system header: only the emulator's include directories.
_KERNEL_FLAGS = ["-nostdinc", "-nostdinc++", "-isystem", str(EMULATOR_DIR / "include"),
                 "-isystem", str(EMULATOR_DIR), "-Wno-attributes"]


def find_compiler() -> str | None:
    """The C++ compiler to use: $CXX, else c++, g++ or clang++ on PATH; None if none."""
    candidates = [os.environ["CXX"]] if os.environ.get("CXX") else ["c++", "g++", "clang++"]
    for name in candidates:
        path = shutil.which(name)
        if path:
            return path
    return None


def cache_dir() -> Path:
    root = os.environ.get("SEQNN_MSL_CACHE") or Path.home() / ".cache" / "seqnn" / "msl-emulator"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


@functools.lru_cache(maxsize=None)
def _compiler_identity(compiler: str) -> str:
    result = subprocess.run([compiler, "--version"], capture_output=True, text=True, check=False)
    return compiler + "\n" + result.stdout


@functools.lru_cache(maxsize=None)
def _emulator_digest() -> str:
    digest = hashlib.sha256()
    for name in (*HEADERS, RUNTIME):
        digest.update(name.encode() + b"\0" + (EMULATOR_DIR / name).read_bytes())
    return digest.hexdigest()


def _require_compiler() -> str:
    compiler = find_compiler()
    if compiler is None:
        raise CompileError("no C++ compiler found (set CXX, or install g++ or clang++)")
    return compiler


def _run_compiler(command: list[str], what: str, cwd: Path | None = None) -> None:
    """Run the compiler; on failure raise CompileError with its messages (minus temp paths)."""
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    if result.returncode != 0:
        message = result.stderr.replace(str(cwd) + os.sep, "") if cwd else result.stderr
        raise CompileError(f"Failed to compile {what}:\n{message.strip()}")


def _atomic_build(target: Path, build) -> Path:
    """target, built by build(tmp_dir, partial_path) unless present, then renamed into place."""
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        partial = Path(tmp) / target.name
        build(Path(tmp), partial)
        os.replace(partial, target)
    return target


def _runtime_object(compiler: str) -> Path:
    key = hashlib.sha256((_compiler_identity(compiler) + _emulator_digest()).encode()).hexdigest()[:24]

    def build(_tmp: Path, out: Path) -> None:
        _run_compiler([compiler, *_COMMON_FLAGS, "-c", str(EMULATOR_DIR / RUNTIME), "-o", str(out)],
                      "the emulator runtime")

    return _atomic_build(cache_dir() / f"runtime-{key}.o", build)


def build_library(translation_unit: str) -> Path:
    """The path of the shared library built from translation_unit (cached)."""
    compiler = _require_compiler()
    runtime = _runtime_object(compiler)
    key = hashlib.sha256("\0".join([translation_unit, _compiler_identity(compiler),
                                    _emulator_digest(), *_COMMON_FLAGS]).encode()).hexdigest()[:32]

    def build(tmp: Path, out: Path) -> None:
        source = tmp / "kernel.cpp"
        source.write_text(translation_unit)
        command = [compiler, *_COMMON_FLAGS, *_KERNEL_FLAGS, "-shared", str(source), str(runtime),
                   "-o", str(out), "-lm"]
        _run_compiler(command, f"the kernel source (emulator, {Path(compiler).name})", cwd=tmp)

    return _atomic_build(cache_dir() / f"kernel-{key}.so", build)
