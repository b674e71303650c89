"""Self-tests of the MSL emulator (tests/metal_emulator).

Correct kernels (tests/metal_emulator/selftest/*.metal) must give numpy's
answer under every threadgroup size metalcompute may pick and every fiber
order; planted bugs must each be caught.  Compiled libraries are cached
(~/.cache/seqnn/msl-emulator or $SEQNN_MSL_CACHE), so reruns skip the compiler.
"""
import itertools
import threading

import numpy as np
import pytest

from metal_emulator import SELFTEST_DIR
from metal_emulator import metalcompute as mc

if mc.find_compiler() is None:
    pytest.skip("the MSL emulator needs a C++ compiler (set CXX or install g++/clang++)",
                allow_module_level=True)

SIZES = (32, 256, 1024)
ORDERS = ("forward", "reverse", "shuffle")
SCHEDULES = [pytest.param(tg, order, id=f"tg{tg}-{order}") for tg, order in itertools.product(SIZES, ORDERS)]


def source(name: str) -> str:
    return (SELFTEST_DIR / f"{name}.metal").read_text()


def function(dev, file: str, name: str):
    return dev.kernel(source(file)).function(name)


def floats(buf) -> np.ndarray:
    return np.frombuffer(buf, dtype=np.float32)


def u32(*values) -> np.ndarray:
    return np.array(values, dtype=np.uint32)


@pytest.fixture
def data(rng):
    return rng.standard_normal(3001).astype(np.float32)  # not a multiple of any group size


# ---- correct kernels: numpy's answer under every schedule --------------------------------

@pytest.mark.parametrize("tg, order", SCHEDULES)
def test_add_matches_numpy(tg, order, data):
    dev = mc.Device(threadgroup=tg, order=order, seed=7)
    out = dev.buffer(data.nbytes)
    function(dev, "add", "add")(len(data), dev.buffer(data), dev.buffer(data[::-1].copy()), out,
                                u32(len(data)))
    np.testing.assert_array_equal(floats(out), data + data[::-1])


@pytest.mark.parametrize("tg, order", SCHEDULES)
@pytest.mark.parametrize("file", ["block_sum", "simd_block_sum"])
def test_reductions_match_numpy(file, tg, order, data):
    dev = mc.Device(threadgroup=tg, order=order, seed=7)
    partial = dev.buffer(4 * (len(data) // 32 + 1))
    function(dev, file, file)(len(data), data, partial, u32(len(data)))
    groups = -(-len(data) // tg)
    assert not floats(partial)[groups:].any()  # one partial sum per group, nothing beyond
    np.testing.assert_allclose(floats(partial).sum(), data.sum(dtype=np.float64), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("tg, order", SCHEDULES)
@pytest.mark.parametrize("file, threads_per_tile, tile", [("matmul_tiled", 1024, 32),
                                                          ("matmul_simdgroup", 32, 8)])
def test_matmuls_match_numpy(file, threads_per_tile, tile, tg, order, rng):
    m, n, k = 45, 37, 70  # no dimension a multiple of a tile
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    dev = mc.Device(threadgroup=tg, order=order, seed=7)
    c = dev.buffer(4 * m * n)
    tiles = -(-m // tile) * -(-n // tile)
    function(dev, file, file)(tiles * threads_per_tile, a, b, c, u32(m, n, k, 0))
    np.testing.assert_allclose(floats(c).reshape(m, n), a @ b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("tg, order", SCHEDULES)
def test_atomic_counter_matches_numpy(tg, order, data):
    dev = mc.Device(threadgroup=tg, order=order, seed=7)
    total = dev.buffer(4)
    function(dev, "count_positive", "count_positive")(len(data), data, total, u32(len(data)))
    assert np.frombuffer(total, np.uint32)[0] == np.count_nonzero(data > 0)


def test_compare_mode_accepts_a_correct_kernel(data):
    dev = mc.Device(threadgroup=256, order="compare")
    partial = dev.buffer(4 * 16)
    function(dev, "block_sum", "block_sum")(len(data), data, partial, u32(len(data)))
    np.testing.assert_allclose(floats(partial).sum(), data.sum(dtype=np.float64), rtol=1e-5, atol=1e-4)


SIMD_SEMANTICS = """
#include <metal_stdlib>
using namespace metal;
kernel void lanes(device float4* out [[buffer(0)]], uint gid [[thread_position_in_grid]],
                  uint lane [[thread_index_in_simdgroup]]) {
    float v = float(lane);
    out[gid] = float4(simd_shuffle_down(v, 3), simd_shuffle_up(v, 2), simd_broadcast(v, 5),
                      simd_prefix_exclusive_sum(v));
}
"""


def test_simd_shuffles_follow_msl():
    dev = mc.Device(threadgroup=64)
    out = dev.buffer(16 * 64)
    dev.kernel(SIMD_SEMANTICS).function("lanes")(64, out)
    got = floats(out).reshape(64, 4)[:32]
    lane = np.arange(32, dtype=np.float32)
    np.testing.assert_array_equal(got[:, 0], np.where(lane + 3 < 32, lane + 3, lane))  # top lanes keep theirs
    np.testing.assert_array_equal(got[:, 1], np.where(lane >= 2, lane - 2, lane))
    np.testing.assert_array_equal(got[:, 2], 5)
    np.testing.assert_array_equal(got[:, 3], np.cumsum(lane) - lane)


PRELUDE_COVERAGE = """
#include <metal_stdlib>
using namespace metal;
struct Params { float scale; uint n; };
kernel void mix_of_features(device const float4* x [[buffer(0)]], device float4* out [[buffer(1)]],
                            constant Params& p [[buffer(2)]], device half* h [[buffer(3)]],
                            uint3 gid3 [[thread_position_in_grid]]) {
    const uint gid = gid3.x;
    if (gid >= p.n || gid3.y != 0) return;
    float4 v = x[gid] * p.scale;
    float4 r;
    r.xy = float2(fast::exp(v.x), precise::sqrt(fabs(v.y)));
    r.z = select(tanh(v.z), rsqrt(v.z), v.z > 1.0f);
    r.w = clamp(fma(v.w, 2.0f, 1.0f), -1.0f, 1.0f) + pow(fabs(v.x), 0.5f) + floor(v.y) - ceil(v.z);
    out[gid] = max(r, float4(-5.0f)) + min(r.wzyx, 10.0f) * 0.0f;
    half hv = half(v.x) * 2.0h;
    h[gid] = hv + half(abs(int(v.y)));
}
"""


def test_prelude_covers_vectors_math_and_half(rng):
    n = 100
    x = rng.uniform(-2, 2, (n, 4)).astype(np.float32)
    dev = mc.Device(threadgroup=64)
    out, h = dev.buffer(x.nbytes), dev.buffer(2 * n)
    params = np.array([(0.5, n)], dtype=[("scale", "<f4"), ("n", "<u4")])
    dev.kernel(PRELUDE_COVERAGE).function("mix_of_features")(n, x, out, params, h)
    v = x * np.float32(0.5)
    expect = np.stack([
        np.exp(v[:, 0]), np.sqrt(np.abs(v[:, 1])),
        np.where(v[:, 2] > 1, 1 / np.sqrt(np.abs(v[:, 2])), np.tanh(v[:, 2])),
        np.clip(v[:, 3] * 2 + 1, -1, 1) + np.abs(v[:, 0]) ** 0.5 + np.floor(v[:, 1]) - np.ceil(v[:, 2]),
    ], axis=1)
    np.testing.assert_allclose(floats(out).reshape(n, 4), np.maximum(expect, -5), rtol=1e-5, atol=1e-6)
    expect_h = (v[:, 0].astype(np.float16) * np.float16(2)) + np.abs(np.trunc(v[:, 1])).astype(np.float16)
    np.testing.assert_array_equal(np.frombuffer(h, np.float16), expect_h)


# ---- planted bugs: each must be caught ------------------------------------------------

@pytest.mark.parametrize("tg", SIZES)
def test_unchecked_write_past_the_end_is_caught(tg, data):
    dev = mc.Device(threadgroup=tg)
    out = dev.buffer(data.nbytes)
    fn = function(dev, "bug_unchecked_write", "add_unchecked")
    expected = r"add_unchecked.*past the end of buffer 2 \('out'.*first stray element 3001\."
    with pytest.raises(mc.KernelFault, match=expected):
        fn(len(data), data, data, out)


def test_missing_barrier_is_caught(data):
    dev = mc.Device(threadgroup=256, order="forward")
    partial = dev.buffer(4 * 16)
    fn = function(dev, "bug_missing_barrier", "block_sum_no_barrier")
    fn(len(data), data, partial, u32(len(data)))
    assert not np.isclose(floats(partial).sum(), data.sum())  # reads unwritten (NaN) threadgroup memory
    with pytest.raises(mc.KernelFault, match="differs .* thread orders"):
        mc.Device(threadgroup=256, order="compare").kernel(source("bug_missing_barrier")).function(
            "block_sum_no_barrier")(len(data), data, partial, u32(len(data)))


@pytest.mark.parametrize("name, pattern", [
    ("scale_early_return", r"scale_early_return.*reached by \d+ of the 256 threads.*finished"),
    ("half_barrier", r"half_barrier.*reached by 128 of the 256 threads"),
    ("divergent_simd_sum", r"divergent_simd_sum.*SIMD-group 0 .* diverges.*simd_sum"),
])
def test_divergent_barriers_and_collectives_are_errors(name, pattern):
    dev = mc.Device(threadgroup=256)
    x = dev.buffer(4 * 300)
    fn = dev.kernel(source("bug_divergent_barrier")).function(name)
    args = (x, u32(300)) if name == "scale_early_return" else (x,)
    with pytest.raises(mc.KernelFault, match=pattern):
        fn(300, *args)


def test_kernel_assuming_256_threads_is_caught(data):
    fn256 = function(mc.Device(threadgroup=256), "bug_assumes_256", "block_sum_256")
    partial = mc.Device().buffer(4 * (len(data) // 32 + 1))
    fn256(len(data), data, partial, u32(len(data)))
    np.testing.assert_allclose(floats(partial).sum(), data.sum(dtype=np.float64), rtol=1e-5, atol=1e-4)
    with pytest.raises(mc.KernelFault, match="outside its threadgroup arrays"):
        function(mc.Device(threadgroup=1024), "bug_assumes_256", "block_sum_256")(
            len(data), data, partial, u32(len(data)))
    function(mc.Device(threadgroup=32), "bug_assumes_256", "block_sum_256")(
        len(data), data, partial, u32(len(data)))
    assert not np.isclose(floats(partial).sum(), data.sum())


@pytest.mark.parametrize("line, construct", [
    ("double y = x[gid];", "'double'"),
    ("float y = std::exp(x[gid]);", "'std::'"),
    ('printf("%f", x[gid]); float y = 0;', "'printf'"),
    ("float* p = new float[4]; float y = p[0];", "'new'"),
    ("float* p = (float*)malloc(4); float y = p[0];", "'malloc'"),
    ("device atomic_float* a = (device atomic_float*)x; float y = 0;", "'atomic_float': atomic_float needs MSL 3.0"),
])
def test_constructs_that_are_not_msl_fail_to_compile(line, construct):
    src = f"""#include <metal_stdlib>
using namespace metal;
kernel void k(device float* x [[buffer(0)]], uint gid [[thread_position_in_grid]]) {{
    {line}
    x[gid] = y;
}}"""
    with pytest.raises(mc.CompileError, match=rf"kernel.metal:4: {construct}"):
        mc.Device().kernel(src)


@pytest.mark.parametrize("call", ["erf(x[gid])", "expf(x[gid])", "fabsf(x[gid])"])
def test_c_library_functions_metal_lacks_fail_to_compile(call):
    src = f"""#include <metal_stdlib>
using namespace metal;
kernel void k(device float* x [[buffer(0)]], uint gid [[thread_position_in_grid]]) {{
    x[gid] = {call};
}}"""
    with pytest.raises(mc.CompileError, match=r"kernel.metal:4:"):
        mc.Device().kernel(src)


def test_numpy_array_passed_directly_is_a_copy(data):
    dev = mc.Device()
    out = np.zeros_like(data)
    function(dev, "add", "add")(len(data), data, data, out, u32(len(data)))
    assert not out.any()  # the kernel wrote into a temporary copy, as metalcompute does
    kept = dev.buffer(out)
    function(dev, "add", "add")(len(data), data, data, kept, u32(len(data)))
    np.testing.assert_array_equal(floats(kept), 2 * data)


# ---- the metalcompute API --------------------------------------------------------------

def test_buffers_are_zero_copy_views():
    dev = mc.Device()
    buf = dev.buffer(16)
    view = np.frombuffer(buf, dtype=np.float32)
    view[:] = [1, 2, 3, 4]
    assert bytes(buf) == np.array([1, 2, 3, 4], np.float32).tobytes()
    assert str(buf) == "metalcompute.Buffer(length=16)"
    assert bytes(dev.buffer(b"abc")) == b"abc"


def test_api_errors_match_metalcompute(data):
    dev = mc.Device()
    kernel = dev.kernel(source("add"))
    with pytest.raises(mc.error, match="Function not found: 'nope'.*add"):
        kernel.function("nope")
    fn = kernel.function("add")
    with pytest.raises(mc.error, match="Buffer not found"):
        fn(10)
    with pytest.raises(mc.error, match="integer kernel count"):
        fn("10", data)
    with pytest.raises(mc.error, match="binds 2 buffer"):
        fn(10, data, data)
    with pytest.raises(mc.error, match="holds 2 bytes, the kernel reads 4"):
        fn(10, data, data, dev.buffer(40), np.zeros(1, np.uint16))
    with pytest.raises(mc.error, match="Could not make buffer"):
        dev.buffer(0)
    with pytest.raises(mc.error, match="Unsupported input format"):
        dev.buffer(np.zeros((4, 4), np.float32)[:, 0])
    with pytest.raises(mc.error, match="Device not found"):
        mc.Device(3)


def test_kernel_parameters_metalcompute_cannot_bind_are_refused():
    src = """#include <metal_stdlib>
using namespace metal;
kernel void k(device float* x [[buffer(0)]], threadgroup float* t [[threadgroup(0)]]) { x[0] = t[0]; }"""
    with pytest.raises(mc.CompileError, match="declare threadgroup arrays inside the kernel body"):
        mc.Device().kernel(src)


def test_too_much_threadgroup_memory_is_refused():
    src = """#include <metal_stdlib>
using namespace metal;
kernel void big(device float* x [[buffer(0)]], uint lid [[thread_position_in_threadgroup]]) {
    threadgroup float tile[9000];
    tile[lid] = 1.0f;
    threadgroup_barrier(mem_flags::mem_threadgroup);
    x[lid] = tile[lid];
}"""
    with pytest.raises(mc.error, match="36000 bytes of threadgroup memory"):
        mc.Device().kernel(src).function("big")


def test_schedule_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SEQNN_MSL_THREADGROUP", "64")
    monkeypatch.setenv("SEQNN_MSL_ORDER", "reverse")
    assert mc.Device().schedule() == mc.Device(threadgroup=64, order="reverse").schedule()
    monkeypatch.setenv("SEQNN_MSL_THREADGROUP", "48")
    with pytest.raises(ValueError, match="multiple of 32"):
        mc.Device().schedule()


def test_cache_is_reused_and_safe_across_threads(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQNN_MSL_CACHE", str(tmp_path))
    src = source("add").replace("a[gid] + b[gid]", "a[gid] - b[gid]")
    errors = []

    def compile_once():
        try:
            mc.Device().kernel(src).function("add")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=compile_once) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    libraries = sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".so")
    assert len(libraries) == 1 and not [p for p in tmp_path.iterdir() if p.name.startswith(".build-")]
