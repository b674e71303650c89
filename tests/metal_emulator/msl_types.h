// MSL scalar and vector types in C++17, with no system header.
//
// Vectors follow MSL's layout (a 3-vector is the size of a 4-vector, aligned
// like one), so structs shared with the host and `device float4*` buffers have
// the byte layout they have on the GPU.  Components are real members (v.x) and
// swizzles of 2 to 4 components (v.xy, v.zyx, v.xxyy) are union members that
// read and write the same storage, so MSL code that writes `v.xy = ...` works.
#ifndef MSL_EMU_TYPES_H
#define MSL_EMU_TYPES_H

typedef unsigned char uchar;
typedef unsigned short ushort;
typedef unsigned int uint;
typedef unsigned long ulong;
typedef decltype(sizeof(0)) size_t;
typedef decltype((char*)0 - (char*)0) ptrdiff_t;
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long int64_t;
typedef unsigned long uint64_t;
typedef _Float16 half;

// MSL half literals (1.0h); this header is a system header, so the reserved
// suffix draws no warning.
constexpr half operator""h(long double v) { return (half)v; }
constexpr half operator""h(unsigned long long v) { return (half)v; }

namespace msl_emu {

template <bool B, class T = void> struct enable_if {};
template <class T> struct enable_if<true, T> { typedef T type; };
template <class T> struct identity { typedef T type; };
template <class A, class B> struct same { static constexpr bool value = false; };
template <class A> struct same<A, A> { static constexpr bool value = true; };
template <class T> struct remove_cv { typedef T type; };
template <class T> struct remove_cv<const T> { typedef T type; };
template <class T> struct remove_cv<volatile T> { typedef T type; };
template <class T> struct remove_cv<const volatile T> { typedef T type; };

template <class T> struct is_scalar { static constexpr bool value = false; };
#define MSL_EMU_SCALAR(T) \
    template <> struct is_scalar<T> { static constexpr bool value = true; };
MSL_EMU_SCALAR(bool)
MSL_EMU_SCALAR(char)
MSL_EMU_SCALAR(signed char)
MSL_EMU_SCALAR(uchar)
MSL_EMU_SCALAR(short)
MSL_EMU_SCALAR(ushort)
MSL_EMU_SCALAR(int)
MSL_EMU_SCALAR(uint)
MSL_EMU_SCALAR(long)
MSL_EMU_SCALAR(ulong)
MSL_EMU_SCALAR(half)
MSL_EMU_SCALAR(float)
#undef MSL_EMU_SCALAR

template <class T, int N> struct vec;

// S: number of stored elements (4 for a 3-vector); I...: the components read.
template <class T, int S, int... I> struct swizzle {
    T d[S];
    static constexpr int size = sizeof...(I);
    operator vec<T, sizeof...(I)>() const { return vec<T, sizeof...(I)>(d[I]...); }
    swizzle& operator=(const vec<T, sizeof...(I)>& v) {
        const int idx[] = {I...};
        T tmp[sizeof...(I)];
        for (int k = 0; k < (int)sizeof...(I); ++k) tmp[k] = v.d[k];
        for (int k = 0; k < (int)sizeof...(I); ++k) d[idx[k]] = tmp[k];
        return *this;
    }
    swizzle& operator=(const swizzle& other) { return *this = vec<T, sizeof...(I)>(other); }
    template <int... J> swizzle& operator=(const swizzle<T, S, J...>& other) {
        return *this = vec<T, sizeof...(I)>(other);
    }
};

// What an operand of a vector operator is: a vector, a swizzle or a scalar.
template <class X> struct operand {
    static constexpr bool vector = false;
    static constexpr int n = 0;
};
template <class T, int N> struct operand<vec<T, N>> {
    static constexpr bool vector = true;
    static constexpr int n = N;
    typedef T elem;
};
template <class T, int S, int... I> struct operand<swizzle<T, S, I...>> {
    static constexpr bool vector = true;
    static constexpr int n = sizeof...(I);
    typedef T elem;
};

}  // namespace msl_emu

// Swizzle members: MSL_EMU_SWn(p, q, ...) declares the member pq... reading
// components MSL_EMU_p, MSL_EMU_q, ...; the ROW/P macros enumerate every
// combination over the components a vector has (xy, xyz or xyzw).
#define MSL_EMU_x 0
#define MSL_EMU_y 1
#define MSL_EMU_z 2
#define MSL_EMU_w 3
#define MSL_EMU_SW2(p, q) swizzle<T, S, MSL_EMU_##p, MSL_EMU_##q> p##q;
#define MSL_EMU_SW3(p, q, r) swizzle<T, S, MSL_EMU_##p, MSL_EMU_##q, MSL_EMU_##r> p##q##r;
#define MSL_EMU_SW4(p, q, r, s) \
    swizzle<T, S, MSL_EMU_##p, MSL_EMU_##q, MSL_EMU_##r, MSL_EMU_##s> p##q##r##s;
#define MSL_EMU_ROW2_2(p) MSL_EMU_SW2(p, x) MSL_EMU_SW2(p, y)
#define MSL_EMU_ROW3_2(p) MSL_EMU_ROW2_2(p) MSL_EMU_SW2(p, z)
#define MSL_EMU_ROW4_2(p) MSL_EMU_ROW3_2(p) MSL_EMU_SW2(p, w)
#define MSL_EMU_ROW2_3(p, q) MSL_EMU_SW3(p, q, x) MSL_EMU_SW3(p, q, y)
#define MSL_EMU_ROW3_3(p, q) MSL_EMU_ROW2_3(p, q) MSL_EMU_SW3(p, q, z)
#define MSL_EMU_ROW4_3(p, q) MSL_EMU_ROW3_3(p, q) MSL_EMU_SW3(p, q, w)
#define MSL_EMU_ROW2_4(p, q, r) MSL_EMU_SW4(p, q, r, x) MSL_EMU_SW4(p, q, r, y)
#define MSL_EMU_ROW3_4(p, q, r) MSL_EMU_ROW2_4(p, q, r) MSL_EMU_SW4(p, q, r, z)
#define MSL_EMU_ROW4_4(p, q, r) MSL_EMU_ROW3_4(p, q, r) MSL_EMU_SW4(p, q, r, w)

#define MSL_EMU_P2_3(p) MSL_EMU_ROW2_3(p, x) MSL_EMU_ROW2_3(p, y)
#define MSL_EMU_P2_4B(p, q) MSL_EMU_ROW2_4(p, q, x) MSL_EMU_ROW2_4(p, q, y)
#define MSL_EMU_P2_4(p) MSL_EMU_P2_4B(p, x) MSL_EMU_P2_4B(p, y)
#define MSL_EMU_SWIZZLES2 \
    MSL_EMU_ROW2_2(x) MSL_EMU_ROW2_2(y) MSL_EMU_P2_3(x) MSL_EMU_P2_3(y) MSL_EMU_P2_4(x) MSL_EMU_P2_4(y)

#define MSL_EMU_P3_3(p) MSL_EMU_ROW3_3(p, x) MSL_EMU_ROW3_3(p, y) MSL_EMU_ROW3_3(p, z)
#define MSL_EMU_P3_4B(p, q) MSL_EMU_ROW3_4(p, q, x) MSL_EMU_ROW3_4(p, q, y) MSL_EMU_ROW3_4(p, q, z)
#define MSL_EMU_P3_4(p) MSL_EMU_P3_4B(p, x) MSL_EMU_P3_4B(p, y) MSL_EMU_P3_4B(p, z)
#define MSL_EMU_SWIZZLES3                                                                \
    MSL_EMU_ROW3_2(x) MSL_EMU_ROW3_2(y) MSL_EMU_ROW3_2(z) MSL_EMU_P3_3(x) MSL_EMU_P3_3(y) \
        MSL_EMU_P3_3(z) MSL_EMU_P3_4(x) MSL_EMU_P3_4(y) MSL_EMU_P3_4(z)

#define MSL_EMU_P4_3(p) \
    MSL_EMU_ROW4_3(p, x) MSL_EMU_ROW4_3(p, y) MSL_EMU_ROW4_3(p, z) MSL_EMU_ROW4_3(p, w)
#define MSL_EMU_P4_4B(p, q) \
    MSL_EMU_ROW4_4(p, q, x) MSL_EMU_ROW4_4(p, q, y) MSL_EMU_ROW4_4(p, q, z) MSL_EMU_ROW4_4(p, q, w)
#define MSL_EMU_P4_4(p) \
    MSL_EMU_P4_4B(p, x) MSL_EMU_P4_4B(p, y) MSL_EMU_P4_4B(p, z) MSL_EMU_P4_4B(p, w)
#define MSL_EMU_SWIZZLES4                                                                 \
    MSL_EMU_ROW4_2(x) MSL_EMU_ROW4_2(y) MSL_EMU_ROW4_2(z) MSL_EMU_ROW4_2(w) MSL_EMU_P4_3(x) \
        MSL_EMU_P4_3(y) MSL_EMU_P4_3(z) MSL_EMU_P4_3(w) MSL_EMU_P4_4(x) MSL_EMU_P4_4(y)    \
            MSL_EMU_P4_4(z) MSL_EMU_P4_4(w)

namespace msl_emu {

// Gathers the components of scalars and vectors into a flat array, for the
// MSL constructors float4(a.xy, b, c) and float3(v2, z).
template <class T> struct flattener {
    T* out;
    int k;
    template <class U> typename enable_if<is_scalar<U>::value>::type put(const U& s) {
        out[k++] = (T)s;
    }
    template <class U> typename enable_if<operand<U>::vector>::type put(const U& v) {
        vec<typename operand<U>::elem, operand<U>::n> w = v;
        for (int i = 0; i < operand<U>::n; ++i) out[k++] = (T)w.d[i];
    }
};
template <class... A> struct count_components;
template <> struct count_components<> { static constexpr int value = 0; };
template <class A, class... R> struct count_components<A, R...> {
    static constexpr int value = (operand<A>::vector ? operand<A>::n : 1) + count_components<R...>::value;
};

#define MSL_EMU_VEC_COMMON(N)                                                              \
    vec() : d{} {}                                                                           \
    vec(const vec& o) { copy(o); }                                                           \
    vec& operator=(const vec& o) {                                                           \
        copy(o);                                                                             \
        return *this;                                                                        \
    }                                                                                        \
    template <class U, class = typename enable_if<is_scalar<U>::value>::type>                \
    vec(U s) {                                                                               \
        for (int i = 0; i < S; ++i) d[i] = (T)s;                                             \
    }                                                                                        \
    template <class U> explicit vec(const vec<U, N>& o) {                                    \
        for (int i = 0; i < N; ++i) d[i] = (T)o.d[i];                                        \
    }                                                                                        \
    template <class A, class B, class... R,                                                  \
              class = typename enable_if<count_components<A, B, R...>::value == N>::type>    \
    vec(const A& a, const B& b, const R&... r) {                                             \
        T flat[N];                                                                           \
        flattener<T> f{flat, 0};                                                             \
        f.put(a);                                                                            \
        f.put(b);                                                                            \
        (f.put(r), ...);                                                                     \
        for (int i = 0; i < N; ++i) d[i] = flat[i];                                          \
        for (int i = N; i < S; ++i) d[i] = T();                                              \
    }                                                                                        \
    T& operator[](int i) { return d[i]; }                                                    \
    const T& operator[](int i) const { return d[i]; }                                        \
    void copy(const vec& o) {                                                                \
        for (int i = 0; i < S; ++i) d[i] = o.d[i];                                           \
    }

// The three sizes differ only in storage (a 3-vector stores 4), named
// components and swizzles.
#define MSL_EMU_UNPAREN(...) __VA_ARGS__
#define MSL_EMU_VEC(N, STORED, XYZW, RGBA)                      \
    template <class T> struct alignas(STORED * sizeof(T)) vec<T, N> { \
        static constexpr int S = STORED;                        \
        typedef T elem;                                         \
        union {                                                 \
            T d[S];                                             \
            struct { T MSL_EMU_UNPAREN XYZW; };                 \
            struct { T MSL_EMU_UNPAREN RGBA; };                 \
            MSL_EMU_SWIZZLES##N                                 \
        };                                                      \
        MSL_EMU_VEC_COMMON(N)                                   \
    };
MSL_EMU_VEC(2, 2, (x, y), (r, g))
MSL_EMU_VEC(3, 4, (x, y, z), (r, g, b))
MSL_EMU_VEC(4, 4, (x, y, z, w), (r, g, b, a))
#undef MSL_EMU_VEC

// ---- operators: vector (or swizzle) with vector, or with a scalar ----------
template <class A, class B> struct binary {
    static constexpr bool av = operand<A>::vector, bv = operand<B>::vector;
    static constexpr bool ok = (av && bv && operand<A>::n == operand<B>::n) ||
                               (av && is_scalar<B>::value) || (bv && is_scalar<A>::value);
};
template <class A, class B, bool = operand<A>::vector> struct elem_of {
    typedef typename operand<A>::elem type;
    static constexpr int n = operand<A>::n;
};
template <class A, class B> struct elem_of<A, B, false> {
    typedef typename operand<B>::elem type;
    static constexpr int n = operand<B>::n;
};
// Only instantiated for valid operand pairs, so that other types (enums, ...)
// see no vector operator at all.
template <class A, class B, bool OK = binary<A, B>::ok> struct binary_result {};
template <class A, class B> struct binary_result<A, B, true> {
    typedef vec<typename elem_of<A, B>::type, elem_of<A, B>::n> arith;
    typedef vec<bool, elem_of<A, B>::n> compare;
};
template <class A, class B> using arith_t = typename binary_result<A, B>::arith;
template <class A, class B> using compare_t = typename binary_result<A, B>::compare;

template <class T, int N> const vec<T, N>& as_vec(const vec<T, N>& v) { return v; }
template <class T, int S, int... I> vec<T, sizeof...(I)> as_vec(const swizzle<T, S, I...>& v) {
    return v;
}
// A scalar operand takes the vector's element type, as MSL converts it.
template <class R, class X> typename enable_if<is_scalar<X>::value, R>::type component(const X& x, int) {
    return (R)x;
}
template <class R, class X> typename enable_if<operand<X>::vector, R>::type component(const X& x, int i) {
    return as_vec(x).d[i];
}

#define MSL_EMU_BINARY(OP, RESULT)                                                   \
    template <class A, class B> RESULT<A, B> operator OP(const A& a, const B& b) {   \
        typedef typename elem_of<A, B>::type E;                                      \
        RESULT<A, B> r;                                                              \
        for (int i = 0; i < elem_of<A, B>::n; ++i)                                   \
            r.d[i] = component<E>(a, i) OP component<E>(b, i);                       \
        return r;                                                                    \
    }
MSL_EMU_BINARY(+, arith_t)
MSL_EMU_BINARY(-, arith_t)
MSL_EMU_BINARY(*, arith_t)
MSL_EMU_BINARY(/, arith_t)
MSL_EMU_BINARY(%, arith_t)
MSL_EMU_BINARY(&, arith_t)
MSL_EMU_BINARY(|, arith_t)
MSL_EMU_BINARY(^, arith_t)
MSL_EMU_BINARY(<<, arith_t)
MSL_EMU_BINARY(>>, arith_t)
MSL_EMU_BINARY(==, compare_t)
MSL_EMU_BINARY(!=, compare_t)
MSL_EMU_BINARY(<, compare_t)
MSL_EMU_BINARY(>, compare_t)
MSL_EMU_BINARY(<=, compare_t)
MSL_EMU_BINARY(>=, compare_t)
MSL_EMU_BINARY(&&, compare_t)
MSL_EMU_BINARY(||, compare_t)
#undef MSL_EMU_BINARY

#define MSL_EMU_COMPOUND(OP)                                                                \
    template <class A, class B, class = typename enable_if<operand<A>::vector>::type,      \
              class = arith_t<A, B>>                                                        \
    A& operator OP##=(A& a, const B& b) {                                                   \
        a = a OP b;                                                                         \
        return a;                                                                           \
    }
MSL_EMU_COMPOUND(+)
MSL_EMU_COMPOUND(-)
MSL_EMU_COMPOUND(*)
MSL_EMU_COMPOUND(/)
MSL_EMU_COMPOUND(%)
MSL_EMU_COMPOUND(&)
MSL_EMU_COMPOUND(|)
MSL_EMU_COMPOUND(^)
MSL_EMU_COMPOUND(<<)
MSL_EMU_COMPOUND(>>)
#undef MSL_EMU_COMPOUND

#define MSL_EMU_UNARY(OP, RESULT_ELEM)                                                \
    template <class A, class = typename enable_if<operand<A>::vector>::type>          \
    vec<RESULT_ELEM, operand<A>::n> operator OP(const A& a) {                         \
        vec<RESULT_ELEM, operand<A>::n> r;                                            \
        for (int i = 0; i < operand<A>::n; ++i) r.d[i] = OP as_vec(a).d[i];           \
        return r;                                                                     \
    }
MSL_EMU_UNARY(-, typename operand<A>::elem)
MSL_EMU_UNARY(+, typename operand<A>::elem)
MSL_EMU_UNARY(~, typename operand<A>::elem)
MSL_EMU_UNARY(!, bool)
#undef MSL_EMU_UNARY

template <class T, int N> vec<T, N>& operator++(vec<T, N>& v) { return v += T(1); }
template <class T, int N> vec<T, N>& operator--(vec<T, N>& v) { return v -= T(1); }

}  // namespace msl_emu

#define MSL_EMU_VECTOR_TYPES(T)            \
    typedef msl_emu::vec<T, 2> T##2;       \
    typedef msl_emu::vec<T, 3> T##3;       \
    typedef msl_emu::vec<T, 4> T##4;
MSL_EMU_VECTOR_TYPES(float)
MSL_EMU_VECTOR_TYPES(half)
MSL_EMU_VECTOR_TYPES(int)
MSL_EMU_VECTOR_TYPES(uint)
MSL_EMU_VECTOR_TYPES(short)
MSL_EMU_VECTOR_TYPES(ushort)
MSL_EMU_VECTOR_TYPES(char)
MSL_EMU_VECTOR_TYPES(uchar)
MSL_EMU_VECTOR_TYPES(bool)
MSL_EMU_VECTOR_TYPES(long)
MSL_EMU_VECTOR_TYPES(ulong)
#undef MSL_EMU_VECTOR_TYPES

namespace metal {
template <class T, int N> using vec = msl_emu::vec<T, N>;
}

#endif
