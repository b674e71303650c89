// Barriers and atomics.
//
// A barrier suspends the calling fiber; the scheduler releases the group when
// every thread waits at the same barrier (identified by its source line,
// taken with __builtin_LINE() so that no macro is needed).  Fibers never run
// at the same time, so atomics are plain read-modify-writes; they are still
// typed as in MSL (only memory_order_relaxed, as in MSL 2.3).
#ifndef MSL_EMU_SYNC_H
#define MSL_EMU_SYNC_H

#include "msl_abi.h"
#include "msl_types.h"

namespace metal {

enum class mem_flags : unsigned {
    mem_none = 0,
    mem_device = 1,
    mem_threadgroup = 2,
    mem_texture = 4,
    mem_threadgroup_imageblock = 8,
};
constexpr mem_flags operator|(mem_flags a, mem_flags b) { return mem_flags((unsigned)a | (unsigned)b); }

inline void threadgroup_barrier(mem_flags, int line = __builtin_LINE()) {
    msl_emu_barrier("threadgroup_barrier", line);
}

enum memory_order { memory_order_relaxed };

template <class T> struct msl_emu_atomic {
    T value_;
};
template <class T> using atomic = msl_emu_atomic<T>;
typedef msl_emu_atomic<int> atomic_int;
typedef msl_emu_atomic<uint> atomic_uint;
typedef msl_emu_atomic<bool> atomic_bool;
// MSL 3.0 only; the source check refuses it under metalcompute's MSL 2.3.
typedef msl_emu_atomic<float> atomic_float;

template <class T> using msl_emu_value = typename msl_emu::identity<T>::type;

template <class T>
void atomic_store_explicit(volatile msl_emu_atomic<T>* object, msl_emu_value<T> desired, memory_order) {
    object->value_ = desired;
}
template <class T> T atomic_load_explicit(const volatile msl_emu_atomic<T>* object, memory_order) {
    return object->value_;
}
template <class T>
T atomic_exchange_explicit(volatile msl_emu_atomic<T>* object, msl_emu_value<T> desired, memory_order) {
    T old = object->value_;
    object->value_ = desired;
    return old;
}
template <class T>
bool atomic_compare_exchange_weak_explicit(volatile msl_emu_atomic<T>* object, T* expected,
                                           msl_emu_value<T> desired, memory_order, memory_order) {
    T old = object->value_;
    if (old == *expected) {
        object->value_ = desired;
        return true;
    }
    *expected = old;
    return false;
}

#define MSL_EMU_FETCH(name, expr)                                                                \
    template <class T>                                                                           \
    T atomic_fetch_##name##_explicit(volatile msl_emu_atomic<T>* object, msl_emu_value<T> operand, \
                                     memory_order) {                                             \
        T old = object->value_;                                                                  \
        object->value_ = (expr);                                                                 \
        return old;                                                                              \
    }
MSL_EMU_FETCH(add, old + operand)
MSL_EMU_FETCH(sub, old - operand)
MSL_EMU_FETCH(and, old & operand)
MSL_EMU_FETCH(or, old | operand)
MSL_EMU_FETCH(xor, old ^ operand)
MSL_EMU_FETCH(min, operand < old ? operand : old)
MSL_EMU_FETCH(max, old < operand ? operand : old)
#undef MSL_EMU_FETCH

}  // namespace metal

#endif
