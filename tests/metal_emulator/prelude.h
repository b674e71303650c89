// The prelude that lets the system C++ compiler (c++ -std=c++17) compile an
// unchanged .metal file: `#include <metal_stdlib>` finds include/metal_stdlib,
// which includes this file.  It declares MSL's types and functions, turns the
// address-space and function qualifiers into C++ (constant -> const, the
// others -> nothing; threadgroup variables are rewritten by the Python side
// into static storage shared by the group), and then poisons names that are
// C++ but not MSL, so they fail to compile as they would on a Mac.
#ifndef MSL_EMU_PRELUDE_H
#define MSL_EMU_PRELUDE_H
#pragma GCC system_header

#include "msl_abi.h"
#include "msl_types.h"
#include "msl_math.h"
#include "msl_sync.h"
#include "msl_simd.h"

namespace msl_emu {
// Converts a built-in value to the type the kernel declares (uint, ushort,
// uint2, uint3, ...): x is the 1-D value, rest fills y and z (0 for a
// position, 1 for a size).
template <class T> struct builtin_value {
    static T make(unsigned x, unsigned) { return (T)x; }
};
template <class T, int N> struct builtin_value<vec<T, N>> {
    static vec<T, N> make(unsigned x, unsigned rest) {
        vec<T, N> v((T)rest);
        v.d[0] = (T)x;
        return v;
    }
};
template <class T> typename remove_cv<T>::type builtin(unsigned x, unsigned rest) {
    return builtin_value<typename remove_cv<T>::type>::make(x, rest);
}
}  // namespace msl_emu

// MSL qualifiers.
#define kernel
#define device
#define constant const
#define thread
#define threadgroup
// What the Python side writes in place of `threadgroup` in a threadgroup
// variable declaration: storage in a section of its own per kernel, shared by
// the fibers of the running group, poisoned before each group.
#define MSL_EMU_THREADGROUP_VAR(kernel_name) \
    static __attribute__((section("msl_tg_" #kernel_name), used, aligned(16)))

#pragma GCC poison double std new delete printf fprintf sprintf snprintf puts malloc calloc realloc free
#pragma GCC poison goto throw try catch virtual dynamic_cast typeid thread_local

#endif
