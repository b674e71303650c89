// SIMD-group functions (simd_sum, simd_shuffle, ...) and simdgroup matrices.
//
// Each is a collective: the lane posts its argument, suspends, and once every
// live lane of its SIMD-group (32 lanes, as on Apple GPUs) has made the same
// call, one resolver computes every lane's result, as lanes in lockstep would.
// A simdgroup matrix is kept whole in every lane (Apple spreads it over the
// lanes; thread_elements() is therefore not provided).
#ifndef MSL_EMU_SIMD_H
#define MSL_EMU_SIMD_H

#include "msl_abi.h"
#include "msl_math.h"

namespace msl_emu {

template <class T> T& slot(unsigned char* bytes) { return *reinterpret_cast<T*>(bytes); }

// Posts arg, waits for the SIMD-group, returns this lane's result.
template <class Out, class Arg> Out collective(const char* what, int line, Resolver resolve, const Arg& arg) {
    static_assert(sizeof(Arg) <= sizeof(CollectiveCall::arg), "collective argument too large");
    static_assert(sizeof(Out) <= sizeof(CollectiveCall::out), "collective result too large");
    CollectiveCall call;
    call.what = what;
    call.line = line;
    call.resolve = resolve;
    __builtin_memcpy((void*)call.arg, (const void*)&arg, sizeof arg);
    msl_emu_collective(&call);
    Out out;
    __builtin_memcpy((void*)&out, (const void*)call.out, sizeof out);
    return out;
}

// Component access that treats a scalar as a 1-vector.
template <class T> struct parts {
    static constexpr int n = 1;
    static T& at(T& v, int) { return v; }
};
template <class T, int N> struct parts<vec<T, N>> {
    static constexpr int n = N;
    static T& at(vec<T, N>& v, int i) { return v.d[i]; }
};

struct op_sum { template <class T> static T apply(T a, T b) { return a + b; } };
struct op_product { template <class T> static T apply(T a, T b) { return a * b; } };
struct op_min { template <class T> static T apply(T a, T b) { return metal::min(a, b); } };
struct op_max { template <class T> static T apply(T a, T b) { return metal::max(a, b); } };
struct op_and { template <class T> static T apply(T a, T b) { return a & b; } };
struct op_or { template <class T> static T apply(T a, T b) { return a | b; } };
struct op_xor { template <class T> static T apply(T a, T b) { return a ^ b; } };

template <class T, class Op> void combine(T& acc, T v) {
    for (int i = 0; i < parts<T>::n; ++i)
        parts<T>::at(acc, i) = Op::apply(parts<T>::at(acc, i), parts<T>::at(v, i));
}

// Reduction over the live lanes in lane order (the GPU's order may differ,
// which changes float sums in the last bits).
template <class T, class Op>
bool resolve_reduce(CollectiveCall* const* calls, unsigned width, char*, unsigned) {
    T acc{};
    bool first = true;
    for (unsigned l = 0; l < width; ++l) {
        if (!calls[l]) continue;
        T v = slot<T>(calls[l]->arg);
        if (first) acc = v; else combine<T, Op>(acc, v);
        first = false;
    }
    for (unsigned l = 0; l < width; ++l)
        if (calls[l]) slot<T>(calls[l]->out) = acc;
    return true;
}

// Inclusive (Exclusive = false) or exclusive prefix sums in lane order.
template <class T, bool Exclusive>
bool resolve_prefix(CollectiveCall* const* calls, unsigned width, char*, unsigned) {
    T acc = T(0);
    for (unsigned l = 0; l < width; ++l) {
        if (!calls[l]) continue;
        T v = slot<T>(calls[l]->arg);
        if (!Exclusive) combine<T, op_sum>(acc, v);
        slot<T>(calls[l]->out) = acc;
        if (Exclusive) combine<T, op_sum>(acc, v);
    }
    return true;
}

enum class shuffle_kind { index, down, up, xor_mask, broadcast, first };
template <class T> struct shuffle_arg {
    T value;
    unsigned operand;
};

template <class T, shuffle_kind K>
bool resolve_shuffle(CollectiveCall* const* calls, unsigned width, char* err, unsigned errlen) {
    unsigned first_live = width;
    for (unsigned l = 0; l < width && first_live == width; ++l)
        if (calls[l]) first_live = l;
    unsigned uniform = slot<shuffle_arg<T>>(calls[first_live]->arg).operand;
    T results[64];
    for (unsigned l = 0; l < width; ++l) {
        if (!calls[l]) continue;
        unsigned op = slot<shuffle_arg<T>>(calls[l]->arg).operand;
        unsigned src = l;
        switch (K) {
            case shuffle_kind::index: src = op; break;
            case shuffle_kind::down: src = l + op < width ? l + op : l; break;
            case shuffle_kind::up: src = l >= op ? l - op : l; break;
            case shuffle_kind::xor_mask: src = (l ^ op) < width ? (l ^ op) : l; break;
            case shuffle_kind::broadcast: src = op; break;
            case shuffle_kind::first: src = first_live; break;
        }
        if (K == shuffle_kind::broadcast && op != uniform) {
            __builtin_snprintf(err, errlen, "lanes broadcast from different lanes (%u and %u)", uniform, op);
            return false;
        }
        if (src >= width || !calls[src]) {
            __builtin_snprintf(err, errlen, "lane %u reads lane %u, which %s", l, src,
                               src >= width ? "does not exist" : "has finished");
            return false;
        }
        results[l] = slot<shuffle_arg<T>>(calls[src]->arg).value;
    }
    for (unsigned l = 0; l < width; ++l)
        if (calls[l]) slot<T>(calls[l]->out) = results[l];
    return true;
}

inline bool resolve_nothing(CollectiveCall* const*, unsigned, char*, unsigned) { return true; }

inline bool resolve_is_first(CollectiveCall* const* calls, unsigned width, char*, unsigned) {
    bool first = true;
    for (unsigned l = 0; l < width; ++l)
        if (calls[l]) {
            slot<bool>(calls[l]->out) = first;
            first = false;
        }
    return true;
}

}  // namespace msl_emu

namespace metal {

#define MSL_EMU_SIMD_REDUCE(name, resolver)                                                     \
    template <class T> T name(T value, int line = __builtin_LINE()) {                           \
        return msl_emu::collective<T>(#name, line, resolver, value);                            \
    }
MSL_EMU_SIMD_REDUCE(simd_sum, (msl_emu::resolve_reduce<T, msl_emu::op_sum>))
MSL_EMU_SIMD_REDUCE(simd_product, (msl_emu::resolve_reduce<T, msl_emu::op_product>))
MSL_EMU_SIMD_REDUCE(simd_min, (msl_emu::resolve_reduce<T, msl_emu::op_min>))
MSL_EMU_SIMD_REDUCE(simd_max, (msl_emu::resolve_reduce<T, msl_emu::op_max>))
MSL_EMU_SIMD_REDUCE(simd_and, (msl_emu::resolve_reduce<T, msl_emu::op_and>))
MSL_EMU_SIMD_REDUCE(simd_or, (msl_emu::resolve_reduce<T, msl_emu::op_or>))
MSL_EMU_SIMD_REDUCE(simd_xor, (msl_emu::resolve_reduce<T, msl_emu::op_xor>))
MSL_EMU_SIMD_REDUCE(simd_prefix_inclusive_sum, (msl_emu::resolve_prefix<T, false>))
MSL_EMU_SIMD_REDUCE(simd_prefix_exclusive_sum, (msl_emu::resolve_prefix<T, true>))
#undef MSL_EMU_SIMD_REDUCE

#define MSL_EMU_SIMD_SHUFFLE(name, kind)                                                        \
    template <class T> T name(T value, ushort operand, int line = __builtin_LINE()) {           \
        return msl_emu::collective<T>(#name, line,                                              \
                                      msl_emu::resolve_shuffle<T, msl_emu::shuffle_kind::kind>, \
                                      msl_emu::shuffle_arg<T>{value, operand});                 \
    }
MSL_EMU_SIMD_SHUFFLE(simd_shuffle, index)
MSL_EMU_SIMD_SHUFFLE(simd_shuffle_down, down)
MSL_EMU_SIMD_SHUFFLE(simd_shuffle_up, up)
MSL_EMU_SIMD_SHUFFLE(simd_shuffle_xor, xor_mask)
MSL_EMU_SIMD_SHUFFLE(simd_broadcast, broadcast)
#undef MSL_EMU_SIMD_SHUFFLE

template <class T> T simd_broadcast_first(T value, int line = __builtin_LINE()) {
    return msl_emu::collective<T>("simd_broadcast_first", line,
                                  msl_emu::resolve_shuffle<T, msl_emu::shuffle_kind::first>,
                                  msl_emu::shuffle_arg<T>{value, 0u});
}
inline bool simd_all(bool value, int line = __builtin_LINE()) {
    return msl_emu::collective<bool>("simd_all", line, msl_emu::resolve_reduce<bool, msl_emu::op_and>, value);
}
inline bool simd_any(bool value, int line = __builtin_LINE()) {
    return msl_emu::collective<bool>("simd_any", line, msl_emu::resolve_reduce<bool, msl_emu::op_or>, value);
}
inline bool simd_is_first(int line = __builtin_LINE()) {
    return msl_emu::collective<bool>("simd_is_first", line, msl_emu::resolve_is_first, 0);
}
inline void simdgroup_barrier(mem_flags, int line = __builtin_LINE()) {
    msl_emu::collective<char>("simdgroup_barrier", line, msl_emu::resolve_nothing, 0);
}

// ---- simdgroup matrices -----------------------------------------------------
template <class T, int Cols, int Rows> struct simdgroup_matrix {
    T m[Rows][Cols];
    simdgroup_matrix() = default;
    // MSL: a diagonal matrix with dval on the diagonal.
    explicit simdgroup_matrix(T dval) {
        for (int r = 0; r < Rows; ++r)
            for (int c = 0; c < Cols; ++c) m[r][c] = r == c ? dval : T(0);
    }
};
typedef simdgroup_matrix<float, 8, 8> simdgroup_float8x8;
typedef simdgroup_matrix<half, 8, 8> simdgroup_half8x8;

template <class T, int Cols, int Rows> simdgroup_matrix<T, Cols, Rows> make_filled_simdgroup_matrix(T value) {
    simdgroup_matrix<T, Cols, Rows> d;
    for (int r = 0; r < Rows; ++r)
        for (int c = 0; c < Cols; ++c) d.m[r][c] = value;
    return d;
}
}  // namespace metal

namespace msl_emu {
// The memory side of simdgroup_load / simdgroup_store: must be the same in every lane.
template <class M, class P> struct matrix_io {
    M* matrix;
    P memory;
    ulong elements_per_row;
    ulong origin_x, origin_y;
    bool transpose;
    bool same_memory(const matrix_io& o) const {
        return memory == o.memory && elements_per_row == o.elements_per_row &&
               origin_x == o.origin_x && origin_y == o.origin_y && transpose == o.transpose;
    }
};

template <class IO> const IO* uniform_io(CollectiveCall* const* calls, unsigned width, char* err, unsigned errlen) {
    const IO* first = nullptr;
    for (unsigned l = 0; l < width; ++l) {
        if (!calls[l]) continue;
        const IO& io = slot<IO>(calls[l]->arg);
        if (!first) first = &io;
        else if (!first->same_memory(io)) {
            __builtin_snprintf(err, errlen,
                               "the lanes pass different pointers, strides, origins or transpose "
                               "flags (lane %u differs); they must be the same in every lane", l);
            return nullptr;
        }
    }
    return first;
}

// Element (r, c) of the matrix lies at base[r * stride + c], or transposed at base[c * stride + r].
template <class IO> ulong matrix_offset(const IO& io, int r, int c) {
    ulong base = io.origin_y * io.elements_per_row + io.origin_x;
    return io.transpose ? base + (ulong)c * io.elements_per_row + r : base + (ulong)r * io.elements_per_row + c;
}

template <class T, int C, int R>
bool resolve_load(CollectiveCall* const* calls, unsigned width, char* err, unsigned errlen) {
    typedef matrix_io<metal::simdgroup_matrix<T, C, R>, const T*> IO;
    const IO* io = uniform_io<IO>(calls, width, err, errlen);
    if (!io) return false;
    metal::simdgroup_matrix<T, C, R> loaded;
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) loaded.m[r][c] = io->memory[matrix_offset(*io, r, c)];
    for (unsigned l = 0; l < width; ++l)
        if (calls[l]) *slot<IO>(calls[l]->arg).matrix = loaded;
    return true;
}

template <class T, int C, int R>
bool resolve_store(CollectiveCall* const* calls, unsigned width, char* err, unsigned errlen) {
    typedef matrix_io<const metal::simdgroup_matrix<T, C, R>, T*> IO;
    const IO* io = uniform_io<IO>(calls, width, err, errlen);
    if (!io) return false;
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) io->memory[matrix_offset(*io, r, c)] = io->matrix->m[r][c];
    return true;
}

template <class T, int C, int R> struct mac_arg {
    metal::simdgroup_matrix<T, C, R>* d;
    const metal::simdgroup_matrix<T, C, R>* a;
    const metal::simdgroup_matrix<T, C, R>* b;
    const metal::simdgroup_matrix<T, C, R>* c;
};

// d = a * b + c, computed once (every lane holds the same matrices) in float.
template <class T, int C, int R>
bool resolve_mac(CollectiveCall* const* calls, unsigned width, char*, unsigned) {
    const mac_arg<T, C, R>* first = nullptr;
    for (unsigned l = 0; l < width && !first; ++l)
        if (calls[l]) first = &slot<mac_arg<T, C, R>>(calls[l]->arg);
    metal::simdgroup_matrix<T, C, R> d;
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) {
            float acc = first->c ? (float)first->c->m[r][c] : 0.0f;
            for (int k = 0; k < C; ++k) acc += (float)first->a->m[r][k] * (float)first->b->m[k][c];
            d.m[r][c] = (T)acc;
        }
    for (unsigned l = 0; l < width; ++l)
        if (calls[l]) *slot<mac_arg<T, C, R>>(calls[l]->arg).d = d;
    return true;
}
}  // namespace msl_emu

namespace metal {
template <class T, int C, int R>
void simdgroup_load(simdgroup_matrix<T, C, R>& d, const T* src, ulong elements_per_row = C,
                    ulong2 matrix_origin = ulong2(0), bool transpose_matrix = false,
                    int line = __builtin_LINE()) {
    msl_emu::matrix_io<simdgroup_matrix<T, C, R>, const T*> io{
        &d, src, elements_per_row, matrix_origin.x, matrix_origin.y, transpose_matrix};
    msl_emu::collective<char>("simdgroup_load", line, msl_emu::resolve_load<T, C, R>, io);
}
template <class T, int C, int R>
void simdgroup_store(const simdgroup_matrix<T, C, R>& a, T* dst, ulong elements_per_row = C,
                     ulong2 matrix_origin = ulong2(0), bool transpose_matrix = false,
                     int line = __builtin_LINE()) {
    msl_emu::matrix_io<const simdgroup_matrix<T, C, R>, T*> io{
        &a, dst, elements_per_row, matrix_origin.x, matrix_origin.y, transpose_matrix};
    msl_emu::collective<char>("simdgroup_store", line, msl_emu::resolve_store<T, C, R>, io);
}
template <class T, int C, int R>
void simdgroup_multiply_accumulate(simdgroup_matrix<T, C, R>& d, const simdgroup_matrix<T, C, R>& a,
                                   const simdgroup_matrix<T, C, R>& b, const simdgroup_matrix<T, C, R>& c,
                                   int line = __builtin_LINE()) {
    msl_emu::collective<char>("simdgroup_multiply_accumulate", line, msl_emu::resolve_mac<T, C, R>,
                              msl_emu::mac_arg<T, C, R>{&d, &a, &b, &c});
}
template <class T, int C, int R>
void simdgroup_multiply(simdgroup_matrix<T, C, R>& d, const simdgroup_matrix<T, C, R>& a,
                        const simdgroup_matrix<T, C, R>& b, int line = __builtin_LINE()) {
    msl_emu::collective<char>("simdgroup_multiply", line, msl_emu::resolve_mac<T, C, R>,
                              msl_emu::mac_arg<T, C, R>{&d, &a, &b, nullptr});
}
}  // namespace metal

#endif
