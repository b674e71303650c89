// The interface between a compiled kernel (kernel side: prelude + .metal source
// + generated trampolines) and the fiber scheduler in runtime.cpp.
//
// Why two translation units: the kernel side must not see any system header,
// so that C library names that MSL does not have (erf, expf, malloc, printf,
// ::abs, ...) fail to compile exactly as they would with Apple's compiler.
// This header therefore includes nothing.
#ifndef MSL_EMU_ABI_H
#define MSL_EMU_ABI_H

#define MSL_EMU_HIDDEN __attribute__((visibility("hidden")))
#define MSL_EMU_EXPORT extern "C" __attribute__((visibility("default")))

namespace msl_emu {

// Built-in values of one thread of a 1-D dispatch (metalcompute only makes 1-D grids).
struct ThreadInfo {
    unsigned gid;              // thread_position_in_grid
    unsigned lid;              // thread_position_in_threadgroup
    unsigned group;            // threadgroup_position_in_grid
    unsigned tg_size;          // threads_per_threadgroup
    unsigned ngroups;          // threadgroups_per_grid
    unsigned lane;             // thread_index_in_simdgroup
    unsigned simd_id;          // simdgroup_index_in_threadgroup
    unsigned simd_width;       // threads_per_simdgroup (always 32, as on Apple GPUs)
    unsigned simds_per_group;  // simdgroups_per_threadgroup
};

struct CollectiveCall;

// Performs one SIMD-group collective once every live lane has arrived.
// calls[lane] is null for a lane that has finished.  Returns false and fills
// err when the call is not well defined (e.g. a shuffle from a finished lane).
typedef bool (*Resolver)(CollectiveCall* const* calls, unsigned width, char* err, unsigned errlen);

// A lane's side of a SIMD-group collective; it lives on the lane's fiber stack
// while the lane waits, so the resolver may read every lane's argument and
// write every lane's result in one step (the lanes run "in lockstep").
struct CollectiveCall {
    const char* what;   // the MSL function, for error messages
    int line;           // the call site in the .metal source
    Resolver resolve;
    alignas(16) unsigned char arg[96];
    alignas(16) unsigned char out[64];
};

// How one launch is scheduled.  order: 0 forward, 1 reverse, 2 shuffled by seed.
struct LaunchConfig {
    unsigned tg_size;
    int order;
    unsigned long long seed;
};

typedef void (*KernelBody)(void* const* buffers, const ThreadInfo& thread);

}  // namespace msl_emu

extern "C" {
// The running thread's built-in values.
MSL_EMU_HIDDEN const msl_emu::ThreadInfo* msl_emu_thread();
// Suspends the calling thread until every thread of its threadgroup reaches a barrier.
MSL_EMU_HIDDEN void msl_emu_barrier(const char* what, int line);
// Suspends the calling lane until every live lane of its SIMD-group makes the same call.
MSL_EMU_HIDDEN void msl_emu_collective(msl_emu::CollectiveCall* call);
// Runs body over count threads (padded to whole threadgroups); the threadgroup
// memory of the kernel lies in [tg_begin, tg_end), guarded by the two guard
// arrays.  Returns 0, or -1 with a message in err.
MSL_EMU_HIDDEN int msl_emu_run(msl_emu::KernelBody body, const char* kernel, void* const* buffers,
                               unsigned long long count, const msl_emu::LaunchConfig* config,
                               unsigned char* tg_begin, unsigned char* tg_end,
                               unsigned char* guard_a, unsigned char* guard_b, unsigned guard_bytes,
                               char* err, unsigned errlen);
}

#endif
