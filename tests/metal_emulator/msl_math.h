// MSL's math, common, integer, geometric and relational functions, in
// namespace metal (and metal::fast / metal::precise, which here compute the
// same thing: fast-math numerics are not modelled).  Only functions MSL has are
// declared; the C library is not visible, so e.g. erf() or expf() fail to
// compile as they do with Apple's compiler.  Scalar versions use the compiler's
// builtins (libm), half is computed in float and rounded.
#ifndef MSL_EMU_MATH_H
#define MSL_EMU_MATH_H

#include "msl_types.h"

#define MAXFLOAT 0x1.fffffep+127f
#define HUGE_VALF __builtin_huge_valf()
#define INFINITY __builtin_inff()
#define NAN __builtin_nanf("")
#define FLT_MAX 0x1.fffffep+127f
#define FLT_MIN 0x1p-126f
#define FLT_EPSILON 0x1p-23f
#define HALF_MAX ((half)65504.0f)
#define HALF_MIN ((half)0x1p-14f)
#define HALF_EPSILON ((half)0x1p-10f)
#define INT_MAX 2147483647
#define INT_MIN (-2147483647 - 1)
#define UINT_MAX 4294967295u
#define M_E_F 2.71828182845904523536f
#define M_LOG2E_F 1.44269504088896340736f
#define M_LOG10E_F 0.434294481903251827651f
#define M_LN2_F 0.693147180559945309417f
#define M_LN10_F 2.30258509299404568402f
#define M_PI_F 3.14159265358979323846f
#define M_PI_2_F 1.57079632679489661923f
#define M_PI_4_F 0.785398163397448309616f
#define M_1_PI_F 0.318309886183790671538f
#define M_2_PI_F 0.636619772367581343076f
#define M_2_SQRTPI_F 1.12837916709551257390f
#define M_SQRT2_F 1.41421356237309504880f
#define M_SQRT1_2_F 0.707106781186547524401f

namespace msl_emu {
// The vector type a math function returns for operands A, B, C (the first vector wins).
template <class A, class B = float, class C = float, bool AV = operand<A>::vector,
          bool BV = operand<B>::vector, bool CV = operand<C>::vector>
struct first_vec {};  // no vector operand: no vector overload
template <class A, class B, class C, bool BV, bool CV> struct first_vec<A, B, C, true, BV, CV> {
    typedef vec<typename operand<A>::elem, operand<A>::n> type;
};
template <class A, class B, class C, bool CV> struct first_vec<A, B, C, false, true, CV> {
    typedef vec<typename operand<B>::elem, operand<B>::n> type;
};
template <class A, class B, class C> struct first_vec<A, B, C, false, false, true> {
    typedef vec<typename operand<C>::elem, operand<C>::n> type;
};
template <class V> struct vec_size;
template <class T, int N> struct vec_size<vec<T, N>> { static constexpr int n = N; typedef T elem; };
}  // namespace msl_emu

// Elementwise vector (and swizzle) versions of a 1-, 2- or 3-argument function
// whose scalar overloads are declared in the same namespace.
#define MSL_EMU_VECTORIZE1(name)                                                                 \
    template <class A, class R = typename msl_emu::first_vec<A>::type>                          \
    R name(const A& a) {                                                                         \
        R r;                                                                                     \
        for (int i = 0; i < msl_emu::vec_size<R>::n; ++i)                                        \
            r.d[i] = name(msl_emu::component<typename msl_emu::vec_size<R>::elem>(a, i));        \
        return r;                                                                                \
    }
#define MSL_EMU_VECTORIZE2(name)                                                                 \
    template <class A, class B, class R = typename msl_emu::first_vec<A, B>::type>              \
    R name(const A& a, const B& b) {                                                             \
        typedef typename msl_emu::vec_size<R>::elem E;                                           \
        R r;                                                                                     \
        for (int i = 0; i < msl_emu::vec_size<R>::n; ++i)                                        \
            r.d[i] = name(msl_emu::component<E>(a, i), msl_emu::component<E>(b, i));             \
        return r;                                                                                \
    }
#define MSL_EMU_VECTORIZE3(name)                                                                 \
    template <class A, class B, class C, class R = typename msl_emu::first_vec<A, B, C>::type>  \
    R name(const A& a, const B& b, const C& c) {                                                 \
        typedef typename msl_emu::vec_size<R>::elem E;                                           \
        R r;                                                                                     \
        for (int i = 0; i < msl_emu::vec_size<R>::n; ++i)                                        \
            r.d[i] = name(msl_emu::component<E>(a, i), msl_emu::component<E>(b, i),             \
                          msl_emu::component<E>(c, i));                                          \
        return r;                                                                                \
    }

#define MSL_EMU_FLOAT1(name, expr)                                       \
    inline float name(float x) { return expr; }                          \
    inline half name(half h) { return (half)name((float)h); }            \
    MSL_EMU_VECTORIZE1(name)
#define MSL_EMU_FLOAT2(name, expr)                                               \
    inline float name(float x, float y) { return expr; }                         \
    inline half name(half a, half b) { return (half)name((float)a, (float)b); }  \
    MSL_EMU_VECTORIZE2(name)
#define MSL_EMU_FLOAT3(name, expr)                                                            \
    inline float name(float x, float y, float z) { return expr; }                             \
    inline half name(half a, half b, half c) { return (half)name((float)a, (float)b, (float)c); } \
    MSL_EMU_VECTORIZE3(name)

namespace metal {
// Functions that exist as metal::f, metal::fast::f and metal::precise::f.
namespace msl_emu_precise_math {
MSL_EMU_FLOAT1(exp, __builtin_expf(x))
MSL_EMU_FLOAT1(exp2, __builtin_exp2f(x))
MSL_EMU_FLOAT1(exp10, __builtin_powf(10.0f, x))
MSL_EMU_FLOAT1(log, __builtin_logf(x))
MSL_EMU_FLOAT1(log2, __builtin_log2f(x))
MSL_EMU_FLOAT1(log10, __builtin_log10f(x))
MSL_EMU_FLOAT1(sqrt, __builtin_sqrtf(x))
MSL_EMU_FLOAT1(rsqrt, 1.0f / __builtin_sqrtf(x))
MSL_EMU_FLOAT1(cbrt, __builtin_cbrtf(x))
MSL_EMU_FLOAT1(sin, __builtin_sinf(x))
MSL_EMU_FLOAT1(cos, __builtin_cosf(x))
MSL_EMU_FLOAT1(tan, __builtin_tanf(x))
MSL_EMU_FLOAT1(asin, __builtin_asinf(x))
MSL_EMU_FLOAT1(acos, __builtin_acosf(x))
MSL_EMU_FLOAT1(atan, __builtin_atanf(x))
MSL_EMU_FLOAT1(sinh, __builtin_sinhf(x))
MSL_EMU_FLOAT1(cosh, __builtin_coshf(x))
MSL_EMU_FLOAT1(tanh, __builtin_tanhf(x))
MSL_EMU_FLOAT1(asinh, __builtin_asinhf(x))
MSL_EMU_FLOAT1(acosh, __builtin_acoshf(x))
MSL_EMU_FLOAT1(atanh, __builtin_atanhf(x))
MSL_EMU_FLOAT1(sinpi, __builtin_sinf(M_PI_F * x))
MSL_EMU_FLOAT1(cospi, __builtin_cosf(M_PI_F * x))
MSL_EMU_FLOAT1(fabs, __builtin_fabsf(x))
MSL_EMU_FLOAT1(floor, __builtin_floorf(x))
MSL_EMU_FLOAT1(ceil, __builtin_ceilf(x))
MSL_EMU_FLOAT1(round, __builtin_roundf(x))
MSL_EMU_FLOAT1(rint, __builtin_rintf(x))
MSL_EMU_FLOAT1(trunc, __builtin_truncf(x))
MSL_EMU_FLOAT1(fract, __builtin_fminf(x - __builtin_floorf(x), 0x1.fffffep-1f))
MSL_EMU_FLOAT2(pow, __builtin_powf(x, y))
MSL_EMU_FLOAT2(powr, __builtin_powf(x, y))
MSL_EMU_FLOAT2(fmax, __builtin_fmaxf(x, y))
MSL_EMU_FLOAT2(fmin, __builtin_fminf(x, y))
MSL_EMU_FLOAT2(fmod, __builtin_fmodf(x, y))
MSL_EMU_FLOAT2(atan2, __builtin_atan2f(x, y))
MSL_EMU_FLOAT2(copysign, __builtin_copysignf(x, y))
MSL_EMU_FLOAT2(fdim, __builtin_fdimf(x, y))
MSL_EMU_FLOAT2(divide, x / y)
MSL_EMU_FLOAT3(fma, __builtin_fmaf(x, y, z))
}  // namespace msl_emu_precise_math
namespace fast { using namespace msl_emu_precise_math; }
namespace precise { using namespace msl_emu_precise_math; }
using namespace msl_emu_precise_math;

// ---- common functions -------------------------------------------------------
MSL_EMU_FLOAT3(mad, x * y + z)
MSL_EMU_FLOAT3(mix, x + (y - x) * z)
MSL_EMU_FLOAT1(saturate, __builtin_fminf(__builtin_fmaxf(x, 0.0f), 1.0f))
MSL_EMU_FLOAT1(sign, x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x == x ? x : 0.0f)
MSL_EMU_FLOAT2(step, y < x ? 0.0f : 1.0f)
MSL_EMU_FLOAT3(smoothstep, ([](float e0, float e1, float v) {
                   float t = __builtin_fminf(__builtin_fmaxf((v - e0) / (e1 - e0), 0.0f), 1.0f);
                   return t * t * (3.0f - 2.0f * t);
               })(x, y, z))

// min, max, clamp and abs exist for every scalar type; both operands must
// have the same type, as in MSL (min(uint, int) is ambiguous there too).
#define MSL_EMU_MINMAX(T)                                                    \
    inline T min(T a, T b) { return b < a ? b : a; }                         \
    inline T max(T a, T b) { return a < b ? b : a; }                         \
    inline T clamp(T x, T lo, T hi) { return min(max(x, lo), hi); }
MSL_EMU_MINMAX(char)
MSL_EMU_MINMAX(uchar)
MSL_EMU_MINMAX(short)
MSL_EMU_MINMAX(ushort)
MSL_EMU_MINMAX(int)
MSL_EMU_MINMAX(uint)
MSL_EMU_MINMAX(long)
MSL_EMU_MINMAX(ulong)
#undef MSL_EMU_MINMAX
inline float min(float a, float b) { return __builtin_fminf(a, b); }
inline float max(float a, float b) { return __builtin_fmaxf(a, b); }
inline float clamp(float x, float lo, float hi) { return min(max(x, lo), hi); }
inline half min(half a, half b) { return (half)min((float)a, (float)b); }
inline half max(half a, half b) { return (half)max((float)a, (float)b); }
inline half clamp(half x, half lo, half hi) { return (half)clamp((float)x, (float)lo, (float)hi); }
MSL_EMU_VECTORIZE2(min)
MSL_EMU_VECTORIZE2(max)
MSL_EMU_VECTORIZE3(clamp)

inline char abs(char x) { return x < 0 ? -x : x; }
inline short abs(short x) { return x < 0 ? -x : x; }
inline int abs(int x) { return x < 0 ? -x : x; }
inline long abs(long x) { return x < 0 ? -x : x; }
inline float abs(float x) { return __builtin_fabsf(x); }
inline half abs(half x) { return (half)__builtin_fabsf((float)x); }
MSL_EMU_VECTORIZE1(abs)

inline uint popcount(uint x) { return (uint)__builtin_popcount(x); }
inline uint clz(uint x) { return x ? (uint)__builtin_clz(x) : 32u; }
inline uint ctz(uint x) { return x ? (uint)__builtin_ctz(x) : 32u; }
inline int popcount(int x) { return (int)popcount((uint)x); }
inline int clz(int x) { return (int)clz((uint)x); }
inline int ctz(int x) { return (int)ctz((uint)x); }
inline uint mulhi(uint a, uint b) { return (uint)(((ulong)a * b) >> 32); }
inline int mulhi(int a, int b) { return (int)(((long)a * b) >> 32); }
inline uint absdiff(uint a, uint b) { return a > b ? a - b : b - a; }
inline uint absdiff(int a, int b) { return a > b ? (uint)(a - b) : (uint)(b - a); }
MSL_EMU_VECTORIZE1(popcount)
MSL_EMU_VECTORIZE1(clz)
MSL_EMU_VECTORIZE1(ctz)

// ---- relational -------------------------------------------------------------
inline bool isnan(float x) { return __builtin_isnan(x); }
inline bool isinf(float x) { return __builtin_isinf(x); }
inline bool isfinite(float x) { return __builtin_isfinite(x); }
inline bool signbit(float x) { return __builtin_signbit(x); }
inline bool isnan(half x) { return isnan((float)x); }
inline bool isinf(half x) { return isinf((float)x); }
inline bool isfinite(half x) { return isfinite((float)x); }
inline bool signbit(half x) { return signbit((float)x); }
#define MSL_EMU_PREDICATE(name)                                                                  \
    template <class A, class = typename msl_emu::enable_if<msl_emu::operand<A>::vector>::type>   \
    msl_emu::vec<bool, msl_emu::operand<A>::n> name(const A& a) {                                \
        msl_emu::vec<bool, msl_emu::operand<A>::n> r;                                            \
        for (int i = 0; i < msl_emu::operand<A>::n; ++i) r.d[i] = name(msl_emu::as_vec(a).d[i]); \
        return r;                                                                                \
    }
MSL_EMU_PREDICATE(isnan)
MSL_EMU_PREDICATE(isinf)
MSL_EMU_PREDICATE(isfinite)
MSL_EMU_PREDICATE(signbit)
#undef MSL_EMU_PREDICATE

inline bool all(bool b) { return b; }
inline bool any(bool b) { return b; }
template <int N> bool all(const msl_emu::vec<bool, N>& v) {
    for (int i = 0; i < N; ++i)
        if (!v.d[i]) return false;
    return true;
}
template <int N> bool any(const msl_emu::vec<bool, N>& v) {
    for (int i = 0; i < N; ++i)
        if (v.d[i]) return true;
    return false;
}
// select(a, b, c): c ? b : a, per component.
template <class T, class = typename msl_emu::enable_if<msl_emu::is_scalar<T>::value>::type>
T select(T a, T b, bool c) {
    return c ? b : a;
}
template <class T, int N>
msl_emu::vec<T, N> select(const msl_emu::vec<T, N>& a, const msl_emu::vec<T, N>& b,
                          const msl_emu::vec<bool, N>& c) {
    msl_emu::vec<T, N> r;
    for (int i = 0; i < N; ++i) r.d[i] = c.d[i] ? b.d[i] : a.d[i];
    return r;
}

// ---- geometric --------------------------------------------------------------
template <class T, int N> T dot(const msl_emu::vec<T, N>& a, const msl_emu::vec<T, N>& b) {
    T s = T(0);
    for (int i = 0; i < N; ++i) s += a.d[i] * b.d[i];
    return s;
}
template <class T, int N> T length_squared(const msl_emu::vec<T, N>& a) { return dot(a, a); }
template <class T, int N> T length(const msl_emu::vec<T, N>& a) { return sqrt(dot(a, a)); }
template <class T, int N> T distance(const msl_emu::vec<T, N>& a, const msl_emu::vec<T, N>& b) {
    return length(a - b);
}
template <class T, int N> msl_emu::vec<T, N> normalize(const msl_emu::vec<T, N>& a) {
    return a * rsqrt(dot(a, a));
}
template <class T> msl_emu::vec<T, 3> cross(const msl_emu::vec<T, 3>& a, const msl_emu::vec<T, 3>& b) {
    return msl_emu::vec<T, 3>(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x);
}

// ---- reinterpretation and limits -------------------------------------------
template <class To, class From> To as_type(const From& from) {
    static_assert(sizeof(To) == sizeof(From), "as_type needs types of the same size");
    To to;
    __builtin_memcpy((void*)&to, (const void*)&from, sizeof to);
    return to;
}

template <class T> struct numeric_limits;
template <> struct numeric_limits<float> {
    static constexpr float min() { return FLT_MIN; }
    static constexpr float max() { return FLT_MAX; }
    static constexpr float lowest() { return -FLT_MAX; }
    static constexpr float epsilon() { return FLT_EPSILON; }
    static constexpr float infinity() { return __builtin_inff(); }
    static constexpr float quiet_NaN() { return __builtin_nanf(""); }
};
template <> struct numeric_limits<half> {
    static constexpr half min() { return (half)0x1p-14f; }
    static constexpr half max() { return (half)65504.0f; }
    static constexpr half lowest() { return (half)-65504.0f; }
    static constexpr half epsilon() { return (half)0x1p-10f; }
    static constexpr half infinity() { return (half)__builtin_inff(); }
    static constexpr half quiet_NaN() { return (half)__builtin_nanf(""); }
};
#define MSL_EMU_INT_LIMITS(T, LO, HI)                        \
    template <> struct numeric_limits<T> {                   \
        static constexpr T min() { return LO; }              \
        static constexpr T max() { return HI; }              \
        static constexpr T lowest() { return LO; }           \
    };
MSL_EMU_INT_LIMITS(int, INT_MIN, INT_MAX)
MSL_EMU_INT_LIMITS(uint, 0u, UINT_MAX)
MSL_EMU_INT_LIMITS(short, (short)-32768, (short)32767)
MSL_EMU_INT_LIMITS(ushort, (ushort)0, (ushort)65535)
MSL_EMU_INT_LIMITS(char, (char)-128, (char)127)
MSL_EMU_INT_LIMITS(uchar, (uchar)0, (uchar)255)
#undef MSL_EMU_INT_LIMITS
}  // namespace metal

#endif
