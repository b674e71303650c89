// The fiber scheduler that runs one kernel over its grid the way metalcompute
// dispatches it: 1-D, threadgroups of the pipeline's maximum size, the last
// group padded (its threads past `count` run too).
//
// Threadgroups run one after the other.  The threads of a group are
// cooperative fibers (ucontext); a fiber runs until it reaches a barrier, a
// SIMD-group collective or its end, then the next one runs.  The order in which
// fibers are resumed (forward, reverse, shuffled) changes from run to run, so a
// kernel that reads another thread's threadgroup memory without a barrier in
// between gets a different (wrong) answer under some order.  A barrier is
// released only when every thread of the group waits at the same barrier; a
// collective only when every live lane of the SIMD-group makes the same call.
// Anything else is reported as an error that names the kernel and the line.
#include "msl_abi.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

namespace {

using msl_emu::CollectiveCall;
using msl_emu::ThreadInfo;

enum class State { ready, at_barrier, at_collective, done };

// Small stacks keep 1024 fibers cheap; kernels keep little on the stack.
constexpr size_t kStackBytes = 256 * 1024;
constexpr unsigned kSimdWidth = 32;
// Threadgroup memory is filled with this word before every group, so a read
// of memory no thread of the group has written gives NaN (float) or a large
// integer instead of a plausible value left by the previous group.
constexpr unsigned kPoisonWord = 0x7FC0DEADu;

struct Fiber {
    ucontext_t context;
    void* stack;
    ThreadInfo info;
    State state;
    const char* wait_what;
    int wait_line;
    CollectiveCall* call;
};

struct Launch {
    msl_emu::KernelBody body;
    const char* kernel;
    void* const* buffers;
    Fiber* fibers;
    unsigned n;
    Fiber* current;
    ucontext_t scheduler;
    char* err;
    unsigned errlen;
};

// One launch at a time per loaded library (the Python side holds a lock).
thread_local Launch* tl_launch = nullptr;

void fail(Launch& launch, const char* fmt, ...) {
    int used = snprintf(launch.err, launch.errlen, "kernel '%s': ", launch.kernel);
    va_list args;
    va_start(args, fmt);
    if (used >= 0 && (unsigned)used < launch.errlen)
        vsnprintf(launch.err + used, launch.errlen - used, fmt, args);
    va_end(args);
}

void fiber_entry() {
    Launch& launch = *tl_launch;
    Fiber* self = launch.current;
    launch.body(launch.buffers, self->info);
    self->state = State::done;
    // Returning resumes uc_link, the scheduler.
}

void suspend(State state, const char* what, int line, CollectiveCall* call) {
    Launch& launch = *tl_launch;
    Fiber* self = launch.current;
    self->state = state;
    self->wait_what = what;
    self->wait_line = line;
    self->call = call;
    swapcontext(&self->context, &launch.scheduler);
}

unsigned long long next_random(unsigned long long& state) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

// The order in which the fibers of a group (or the groups of a grid) are resumed.
void make_order(unsigned* order, unsigned n, int kind, unsigned long long& rng) {
    for (unsigned i = 0; i < n; ++i) order[i] = kind == 1 ? n - 1 - i : i;
    if (kind == 2)
        for (unsigned i = n; i > 1; --i) {
            unsigned j = (unsigned)(next_random(rng) % i);
            unsigned t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
}

// Releases the SIMD-groups whose live lanes all wait at one collective.
// Returns 1 when some were released, 0 when none waits, -1 on an error.
int resolve_collectives(Launch& launch) {
    int released = 0;
    for (unsigned base = 0; base < launch.n; base += kSimdWidth) {
        Fiber* lanes = launch.fibers + base;
        Fiber* first = nullptr;
        for (unsigned l = 0; l < kSimdWidth; ++l)
            if (lanes[l].state == State::at_collective) { first = &lanes[l]; break; }
        if (!first) continue;
        CollectiveCall* calls[kSimdWidth];
        for (unsigned l = 0; l < kSimdWidth; ++l) {
            Fiber& f = lanes[l];
            calls[l] = nullptr;
            if (f.state == State::done) continue;
            if (f.state != State::at_collective || f.wait_line != first->wait_line ||
                f.call->resolve != first->call->resolve) {
                fail(launch,
                     "SIMD-group %u of threadgroup %u diverges: lane %u waits at %s (line %d) "
                     "while lane %u waits at %s (line %d); a SIMD-group collective must be "
                     "reached by every live lane of the SIMD-group",
                     first->info.simd_id, first->info.group, first->info.lane, first->wait_what,
                     first->wait_line, f.info.lane, f.wait_what, f.wait_line);
                return -1;
            }
            calls[l] = f.call;
        }
        char why[256] = "";
        if (!first->call->resolve(calls, kSimdWidth, why, sizeof why)) {
            fail(launch, "%s at line %d in SIMD-group %u of threadgroup %u: %s", first->wait_what,
                 first->wait_line, first->info.simd_id, first->info.group, why);
            return -1;
        }
        for (unsigned l = 0; l < kSimdWidth; ++l)
            if (calls[l]) lanes[l].state = State::ready;
        released = 1;
    }
    return released;
}

// Called when no fiber is ready and no collective is pending: every live
// thread waits at a barrier.  Returns false when that barrier is not uniform.
bool release_barrier(Launch& launch) {
    Fiber* first = nullptr;
    Fiber* finished = nullptr;
    unsigned waiting = 0;
    for (unsigned i = 0; i < launch.n; ++i) {
        Fiber& f = launch.fibers[i];
        if (f.state == State::done) {
            if (!finished) finished = &f;
            continue;
        }
        ++waiting;
        if (!first) first = &f;
        if (f.wait_line != first->wait_line) {
            fail(launch,
                 "threads of threadgroup %u wait at different barriers: thread %u at %s "
                 "(line %d), thread %u at %s (line %d)",
                 f.info.group, first->info.lid, first->wait_what, first->wait_line, f.info.lid,
                 f.wait_what, f.wait_line);
            return false;
        }
    }
    if (finished) {
        fail(launch,
             "%s at line %d is reached by %u of the %u threads of threadgroup %u; thread %u "
             "(grid position %u) finished without reaching it (a barrier in divergent "
             "control flow, or an early return before a barrier)",
             first->wait_what, first->wait_line, waiting, launch.n, first->info.group,
             finished->info.lid, finished->info.gid);
        return false;
    }
    for (unsigned i = 0; i < launch.n; ++i) launch.fibers[i].state = State::ready;
    return true;
}

bool run_group(Launch& launch, unsigned group, unsigned ngroups, const msl_emu::LaunchConfig& cfg,
               unsigned* order, unsigned long long& rng) {
    for (unsigned lid = 0; lid < launch.n; ++lid) {
        Fiber& f = launch.fibers[lid];
        f.info = ThreadInfo{group * launch.n + lid, lid, group, launch.n, ngroups,
                            lid % kSimdWidth, lid / kSimdWidth, kSimdWidth, launch.n / kSimdWidth};
        f.state = State::ready;
        getcontext(&f.context);
        f.context.uc_stack.ss_sp = f.stack;
        f.context.uc_stack.ss_size = kStackBytes;
        f.context.uc_link = &launch.scheduler;
        makecontext(&f.context, fiber_entry, 0);
    }
    for (;;) {
        make_order(order, launch.n, cfg.order, rng);
        bool ran = false;
        for (unsigned k = 0; k < launch.n; ++k) {
            Fiber& f = launch.fibers[order[k]];
            if (f.state != State::ready) continue;
            ran = true;
            launch.current = &f;
            swapcontext(&launch.scheduler, &f.context);
        }
        if (ran) continue;
        bool all_done = true;
        for (unsigned i = 0; i < launch.n; ++i)
            if (launch.fibers[i].state != State::done) all_done = false;
        if (all_done) return true;
        int collectives = resolve_collectives(launch);
        if (collectives < 0) return false;
        if (collectives == 0 && !release_barrier(launch)) return false;
    }
}

void fill_poison(unsigned char* begin, unsigned char* end) {
    for (unsigned char* p = begin; p < end; ++p) {
        size_t k = (size_t)(p - begin) % 4;
        *p = (unsigned char)(kPoisonWord >> (8 * k));
    }
}

// Threadgroup memory lies in [begin, end) with a guard array at each end.
// Returns the guard that a thread has written into, or null.
const unsigned char* written_guard(unsigned char* a, unsigned char* b, unsigned bytes) {
    unsigned char* guards[2] = {a, b};
    for (unsigned char* g : guards)
        if (g)
            for (unsigned i = 0; i < bytes; ++i)
                if (g[i] != 0) return g;
    return nullptr;
}

}  // namespace

extern "C" {

const ThreadInfo* msl_emu_thread() { return &tl_launch->current->info; }

void msl_emu_barrier(const char* what, int line) { suspend(State::at_barrier, what, line, nullptr); }

void msl_emu_collective(CollectiveCall* call) {
    suspend(State::at_collective, call->what, call->line, call);
}

int msl_emu_run(msl_emu::KernelBody body, const char* kernel, void* const* buffers,
                unsigned long long count, const msl_emu::LaunchConfig* cfg,
                unsigned char* tg_begin, unsigned char* tg_end, unsigned char* guard_a,
                unsigned char* guard_b, unsigned guard_bytes, char* err, unsigned errlen) {
    Launch launch{body, kernel, buffers, nullptr, cfg->tg_size, nullptr, {}, err, errlen};
    if (launch.n == 0 || launch.n % kSimdWidth != 0 || launch.n > 1024) {
        fail(launch, "threadgroup size %u is not a multiple of 32 up to 1024", launch.n);
        return -1;
    }
    unsigned long long ngroups = (count + launch.n - 1) / launch.n;
    if (ngroups > 0xFFFFFFFFull / launch.n) {
        fail(launch, "a grid of %llu threads is too large", count);
        return -1;
    }
    launch.fibers = (Fiber*)calloc(launch.n, sizeof(Fiber));
    unsigned* order = (unsigned*)malloc(sizeof(unsigned) * (launch.n > ngroups ? launch.n : ngroups));
    bool ok = launch.fibers && order;
    for (unsigned i = 0; ok && i < launch.n; ++i) {
        void* stack = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        launch.fibers[i].stack = stack == MAP_FAILED ? nullptr : stack;
        ok = launch.fibers[i].stack != nullptr;
    }
    if (!ok) fail(launch, "out of memory for %u fiber stacks", launch.n);

    Launch* outer = tl_launch;
    tl_launch = &launch;
    unsigned long long rng = cfg->seed * 0x9E3779B97F4A7C15ull + 1;
    unsigned* group_order = (unsigned*)malloc(sizeof(unsigned) * ngroups);
    ok = ok && group_order;
    if (ok) make_order(group_order, (unsigned)ngroups, cfg->order, rng);
    for (unsigned long long k = 0; ok && k < ngroups; ++k) {
        unsigned group = group_order[k];
        fill_poison(tg_begin, tg_end);
        if (guard_a) memset(guard_a, 0, guard_bytes);
        if (guard_b) memset(guard_b, 0, guard_bytes);
        ok = run_group(launch, group, (unsigned)ngroups, *cfg, order, rng);
        if (ok && written_guard(guard_a, guard_b, guard_bytes)) {
            fail(launch,
                 "a thread of threadgroup %u wrote outside its threadgroup arrays (past the "
                 "end or before the start of a threadgroup variable)",
                 group);
            ok = false;
        }
    }
    tl_launch = outer;
    for (unsigned i = 0; launch.fibers && i < launch.n; ++i)
        if (launch.fibers[i].stack) munmap(launch.fibers[i].stack, kStackBytes);
    free(launch.fibers);
    free(order);
    free(group_order);
    return ok ? 0 : -1;
}

}  // extern "C"
