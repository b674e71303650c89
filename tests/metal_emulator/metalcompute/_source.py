"""Reads the MSL the project writes and turns it into one C++ translation unit.

Three jobs, all on the source text (a regex-level reading of the MSL subset
the project writes, not a parser for all of MSL):

* refuse constructs that are C++ but not MSL, with a message that names the
  construct and the line (the prelude poisons the same names as a backstop);
* find each ``kernel void name(...)`` and what each parameter is bound to
  (``[[buffer(n)]]`` or a built-in such as ``[[thread_position_in_grid]]``);
* rewrite each threadgroup *variable* declaration so that the threads of a
  group share it (a C++ local would be private to each fiber), then append
  the ``extern "C"`` trampolines that the launcher calls.

The rewrite changes no line breaks, so the compiler's line numbers are the
.metal file's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ._errors import CompileError

# metalcompute 0.2.9 compiles with MTLCompileOptions.languageVersion = 2.3.
MSL_VERSION = "2.3"
SOURCE_NAME = "kernel.metal"
# Bytes of guard on each side of a kernel's threadgroup variables.
TG_GUARD_BYTES = 16384

_FORBIDDEN = [
    (r"\bdouble\b", "'double': Metal has no 64-bit floating point; use float"),
    (r"\bstd\s*::", "'std::': MSL has no C++ standard library; use the metal:: functions"),
    (r"\b(new|delete)\b", "'{0}': MSL has no dynamic memory allocation"),
    (r"\b(malloc|calloc|realloc|free)\s*\(", "'{0}': MSL has no dynamic memory allocation"),
    (r"\b(printf|fprintf|sprintf|snprintf|puts)\s*\(", "'{0}': MSL kernels cannot print"),
    (r"\b(goto|throw|try|catch|virtual|dynamic_cast|typeid|thread_local)\b",
     "'{0}': not available in MSL"),
    (r"\batomic_float\b|\batomic\s*<\s*float\s*>",
     "'{0}': atomic_float needs MSL 3.0, and metalcompute compiles with MSL " + MSL_VERSION),
    (r"#\s*include\s*\"([^\"]*)\"",
     "'#include \"{0}\"': metalcompute compiles one source string with no include path"),
]

# Built-in attribute -> (ThreadInfo expression for x, value of y and z).
BUILTINS = {
    "thread_position_in_grid": ("t.gid", 0),
    "thread_position_in_threadgroup": ("t.lid", 0),
    "thread_index_in_threadgroup": ("t.lid", 0),
    "threadgroup_position_in_grid": ("t.group", 0),
    "threads_per_threadgroup": ("t.tg_size", 1),
    "threadgroups_per_grid": ("t.ngroups", 1),
    "threads_per_grid": ("t.tg_size * t.ngroups", 1),
    "thread_index_in_simdgroup": ("t.lane", 0),
    "simdgroup_index_in_threadgroup": ("t.simd_id", 0),
    "threads_per_simdgroup": ("t.simd_width", 1),
    "thread_execution_width": ("t.simd_width", 1),
    "simdgroups_per_threadgroup": ("t.simds_per_group", 1),
}

_KERNEL = re.compile(r"(?:\bkernel|\[\[\s*kernel\s*\]\])\s+void\s+(\w+)\s*\(")
_ATTRIBUTE = re.compile(r"\[\[\s*(\w+)\s*(?:\(\s*([^)]*?)\s*\))?\s*\]\]")


@dataclass(frozen=True)
class Param:
    """One kernel parameter: its declared type, name and what it is bound to."""

    name: str
    type: str
    attribute: str
    index: int | None = None  # n of [[buffer(n)]]

    @property
    def is_buffer(self) -> bool:
        return self.attribute == "buffer"

    @property
    def is_reference(self) -> bool:
        return "&" in self.type

    @property
    def element_type(self) -> str:
        """The pointee: what one element (or the referenced scalar/struct) is."""
        return re.sub(r"[*&]\s*(const\s*)?$", "", self.type.strip()).strip()


@dataclass(frozen=True)
class KernelSig:
    """A kernel function found in the source."""

    name: str
    params: tuple[Param, ...]
    body_start: int  # offset of '{'
    body_end: int  # offset just after the matching '}'

    @property
    def buffer_params(self) -> list[Param]:
        return [p for p in self.params if p.is_buffer]


def strip_code(source: str) -> str:
    """The source with comments and string literals blanked (same length, same lines)."""

    def blank(match: re.Match) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    return re.sub(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"', blank, source, flags=re.S)


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def check_msl(source: str) -> None:
    """Raise CompileError naming every non-MSL construct (and its line) in source."""
    code = strip_code(source)
    problems = []
    for pattern, message in _FORBIDDEN:
        # Includes are matched in the raw text: strip_code blanks their quotes.
        text = source if pattern.startswith("#") else code
        for match in re.finditer(pattern, text):
            if pattern.startswith("#") and code[match.start()] != "#":
                continue  # inside a comment
            name = match.group(1) if match.groups() and match.group(1) else match.group(0)
            problems.append((_line(text, match.start()), message.format(name.strip())))
    if problems:
        lines = [f"{SOURCE_NAME}:{line}: {message}" for line, message in sorted(set(problems))]
        raise CompileError("Not MSL:\n" + "\n".join(lines))


def _matching(code: str, start: int, open_: str, close: str) -> int:
    """Offset just after the bracket that closes the one at code[start]."""
    depth = 0
    for i in range(start, len(code)):
        if code[i] == open_:
            depth += 1
        elif code[i] == close:
            depth -= 1
            if depth == 0:
                return i + 1
    raise CompileError(f"{SOURCE_NAME}:{_line(code, start)}: unbalanced '{open_}'")


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in "([<{":
            depth += 1
        elif ch in ")]>}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current))
    return parts


def _parse_param(kernel: str, text: str) -> Param:
    where = f"parameter '{' '.join(text.split())}' of kernel '{kernel}'"
    attributes = _ATTRIBUTE.findall(text)
    declaration = _ATTRIBUTE.sub(" ", text).strip()
    match = re.match(r"(.*?)(\w+)$", declaration, re.S)
    if not match or not match.group(1).strip():
        raise CompileError(f"cannot read the {where}")
    type_, name = " ".join(match.group(1).split()), match.group(2)
    if len(attributes) != 1:
        raise CompileError(f"the {where} needs exactly one attribute: [[buffer(n)]] or a built-in "
                           "such as [[thread_position_in_grid]]")
    attribute, argument = attributes[0]
    if attribute == "buffer":
        if not re.search(r"\b(device|constant)\b", type_) or not re.search(r"[*&]", type_):
            raise CompileError(f"the {where} is a [[buffer(n)]] and must be a device or constant "
                               "pointer or reference (scalars go in a constant buffer: "
                               "constant uint& n [[buffer(2)]])")
        if not argument.isdigit():
            raise CompileError(f"the {where} needs a literal buffer index")
        return Param(name, type_, attribute, int(argument))
    if attribute == "threadgroup":
        raise CompileError(f"the {where} is threadgroup memory set by the host, which metalcompute "
                           "cannot do; declare threadgroup arrays inside the kernel body")
    if attribute in BUILTINS:
        if re.search(r"[*&]", type_):
            raise CompileError(f"the {where} is a built-in and must be a value (uint, ushort, uint3...)")
        return Param(name, type_, attribute)
    known = ", ".join(sorted(BUILTINS))
    raise CompileError(f"the {where} has attribute [[{attribute}]], which the emulator does not "
                       f"support (metalcompute makes 1-D compute dispatches; built-ins known: {known})")


def find_kernels(source: str) -> list[KernelSig]:
    """Every ``kernel void name(...) {...}`` in source, with its parameters."""
    code = strip_code(source)
    kernels = []
    for match in _KERNEL.finditer(code):
        name = match.group(1)
        params_end = _matching(code, match.end() - 1, "(", ")")
        params = tuple(_parse_param(name, p) for p in _split_top_level(code[match.end():params_end - 1]))
        indices = [p.index for p in params if p.is_buffer]
        if len(set(indices)) != len(indices):
            raise CompileError(f"kernel '{name}' binds two parameters to the same buffer index")
        body_start = code.index("{", params_end)
        kernels.append(KernelSig(name, params, body_start, _matching(code, body_start, "{", "}")))
    return kernels


def rewrite_threadgroup(source: str, kernels: list[KernelSig]) -> str:
    """Make each threadgroup variable of a kernel static storage of that kernel.

    ``threadgroup float tile[256];`` becomes ``MSL_EMU_THREADGROUP_VAR(k) float
    tile[256];``; a threadgroup pointer or reference (``threadgroup float* p``)
    keeps the keyword, which the prelude defines as nothing.
    """
    code = strip_code(source)
    pieces, last = [], 0
    for match in re.finditer(r"\bthreadgroup\b", code):
        stop = re.search(r"[;=){]", code[match.end():])
        declarator = code[match.end():match.end() + (stop.start() if stop else 0)]
        if re.search(r"[*&]", declarator) or (stop and stop.group(0) in "){"):
            continue  # a pointer, reference or cast, not a variable
        line = _line(code, match.start())
        owner = next((k for k in kernels if k.body_start < match.start() < k.body_end), None)
        if owner is None:
            raise CompileError(f"{SOURCE_NAME}:{line}: threadgroup variables must be declared "
                               "inside a kernel body")
        if stop and stop.group(0) == "=":
            raise CompileError(f"{SOURCE_NAME}:{line}: a threadgroup variable cannot have an "
                               "initializer in MSL; assign it after declaring it, then barrier")
        pieces += [source[last:match.start()], f"MSL_EMU_THREADGROUP_VAR({owner.name})"]
        last = match.end()
    return "".join(pieces) + source[last:]


def _argument(param: Param) -> str:
    if param.is_buffer:
        if param.is_reference:
            return f"*({param.type.replace('&', '')}*)b[{param.index}]"
        return f"({param.type})b[{param.index}]"
    field, rest = BUILTINS[param.attribute]
    return f"msl_emu::builtin<{param.type}>({field}, {rest})"


def translation_unit(source: str) -> tuple[str, list[KernelSig]]:
    """The C++ file that compiles source with the prelude, and the kernels it exports.

    For each kernel k it exports ``msl_emu_launch_k`` (run the grid),
    ``msl_emu_elem_k`` (sizeof each buffer parameter's element, in parameter
    order) and ``msl_emu_tg_bytes_k`` (threadgroup memory the kernel declares).
    """
    check_msl(source)
    kernels = find_kernels(source)
    guards_before, after = [], []
    for k in kernels:
        section = f'__attribute__((section("msl_tg_{k.name}"), used))'
        guards_before.append(f"{section} static unsigned char msl_emu_guard_a_{k.name}[{TG_GUARD_BYTES}];")
        args = ",\n        ".join(_argument(p) for p in k.params)
        sizes = ", ".join(f"sizeof({p.element_type})" for p in k.buffer_params) or "0"
        after.append(f"""
{section} static unsigned char msl_emu_guard_b_{k.name}[{TG_GUARD_BYTES}];
extern "C" unsigned char __start_msl_tg_{k.name}[] __attribute__((weak, visibility("hidden")));
extern "C" unsigned char __stop_msl_tg_{k.name}[] __attribute__((weak, visibility("hidden")));
static void msl_emu_body_{k.name}(void* const* b, const msl_emu::ThreadInfo& t) {{
    (void)b; (void)t;
    {k.name}({args});
}}
MSL_EMU_EXPORT int msl_emu_launch_{k.name}(void* const* b, unsigned long long count,
                                           const msl_emu::LaunchConfig* config, char* err, unsigned errlen) {{
    return msl_emu_run(msl_emu_body_{k.name}, "{k.name}", b, count, config,
                       __start_msl_tg_{k.name}, __stop_msl_tg_{k.name},
                       msl_emu_guard_a_{k.name}, msl_emu_guard_b_{k.name}, {TG_GUARD_BYTES}, err, errlen);
}}
MSL_EMU_EXPORT const unsigned long long msl_emu_elem_{k.name}[] = {{{sizes}}};
MSL_EMU_EXPORT unsigned long long msl_emu_tg_bytes_{k.name}() {{
    return (unsigned long long)(__stop_msl_tg_{k.name} - __start_msl_tg_{k.name}) - 2 * {TG_GUARD_BYTES};
}}""")
    text = "\n".join([
        '#include "prelude.h"',
        *guards_before,
        f'#line 1 "{SOURCE_NAME}"',
        rewrite_threadgroup(source, kernels),
        '#line 1 "msl-emulator-trampolines"',
        *after,
        "",
    ])
    return text, kernels
