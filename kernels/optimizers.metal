// Fused optimizer updates: one thread per parameter updates the parameter and
// its slots in place, over the whole flat ParameterArena in one launch. The
// rules are those of seqnn/backends/numpy_backend/optimizers.py (see the
// optimizers' docstrings for the references); the host folds the bias
// corrections into the scalars, as the numpy backend does.
//
// Calling convention (seqnn/backends/metal/launch.py): arrays bound as their
// whole buffers in order; the params struct starts with their element offsets.
#include <metal_stdlib>
using namespace metal;

struct SgdParams {
    uint p_off, g_off, v_off;
    uint n;
    float lr, momentum;
    uint use_velocity;  // 0: plain SGD (the velocity buffer is not touched)
    uint nesterov;
};

// v <- mu*v - lr*g; p <- p + v (nesterov: p <- p + mu*v - lr*g); no velocity: p <- p - lr*g.
kernel void sgd(device float* p [[buffer(0)]], device const float* g [[buffer(1)]],
                device float* v [[buffer(2)]], constant SgdParams& q [[buffer(3)]],
                uint i [[thread_position_in_grid]]) {
    if (i >= q.n) {
        return;
    }
    const float step = g[q.g_off + i] * q.lr;
    if (q.use_velocity == 0) {
        p[q.p_off + i] -= step;
        return;
    }
    const float velocity = v[q.v_off + i] * q.momentum - step;
    v[q.v_off + i] = velocity;
    p[q.p_off + i] += q.nesterov ? velocity * q.momentum - step : velocity;
}

struct AdamParams {
    uint p_off, g_off, m_off, v_off, vmax_off;
    uint n;
    float beta_1, beta_2;
    float step_size;  // lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
    float epsilon;    // epsilon * sqrt(1 - beta_2^t)
    uint amsgrad;     // 1: the denominator uses the running maximum of v
};

// m <- b1*m + (1-b1)*g; v <- b2*v + (1-b2)*g^2; p <- p - step_size * m / (sqrt(v) + epsilon).
kernel void adam(device float* p [[buffer(0)]], device const float* g [[buffer(1)]],
                 device float* m [[buffer(2)]], device float* v [[buffer(3)]],
                 device float* v_max [[buffer(4)]], constant AdamParams& q [[buffer(5)]],
                 uint i [[thread_position_in_grid]]) {
    if (i >= q.n) {
        return;
    }
    const float grad = g[q.g_off + i];
    const float m_new = m[q.m_off + i] + (grad - m[q.m_off + i]) * (1.0f - q.beta_1);
    float v_new = v[q.v_off + i] + (grad * grad - v[q.v_off + i]) * (1.0f - q.beta_2);
    m[q.m_off + i] = m_new;
    v[q.v_off + i] = v_new;
    if (q.amsgrad) {
        v_new = max(v_max[q.vmax_off + i], v_new);
        v_max[q.vmax_off + i] = v_new;
    }
    p[q.p_off + i] -= m_new / (sqrt(v_new) + q.epsilon) * q.step_size;
}

struct AdagradParams {
    uint p_off, g_off, acc_off;
    uint n;
    float lr, epsilon;
};

// acc <- acc + g^2; p <- p - lr * g / sqrt(acc + epsilon).
kernel void adagrad(device float* p [[buffer(0)]], device const float* g [[buffer(1)]],
                    device float* acc [[buffer(2)]], constant AdagradParams& q [[buffer(3)]],
                    uint i [[thread_position_in_grid]]) {
    if (i >= q.n) {
        return;
    }
    const float grad = g[q.g_off + i];
    const float total = acc[q.acc_off + i] + grad * grad;
    acc[q.acc_off + i] = total;
    p[q.p_off + i] -= grad / sqrt(total + q.epsilon) * q.lr;
}

struct RmspropParams {
    uint p_off, g_off, ms_off, mg_off, mom_off;
    uint n;
    float lr, rho, momentum, epsilon;
    uint centered;      // 1: mean_grad is kept and subtracted
    uint use_momentum;  // 1: momentum_buf is kept
};

// ms <- rho*ms + (1-rho)*g^2 (centered: mg likewise with g, and ms - mg^2 under the root);
// step = lr*g/sqrt(... + epsilon); with momentum: buf <- momentum*buf + step, p <- p - buf.
kernel void rmsprop(device float* p [[buffer(0)]], device const float* g [[buffer(1)]],
                    device float* mean_square [[buffer(2)]], device float* mean_grad [[buffer(3)]],
                    device float* momentum_buf [[buffer(4)]], constant RmspropParams& q [[buffer(5)]],
                    uint i [[thread_position_in_grid]]) {
    if (i >= q.n) {
        return;
    }
    const float grad = g[q.g_off + i];
    const float ms = mean_square[q.ms_off + i] + (grad * grad - mean_square[q.ms_off + i]) * (1.0f - q.rho);
    mean_square[q.ms_off + i] = ms;
    float denominator = ms;
    if (q.centered) {
        const float mg = mean_grad[q.mg_off + i] + (grad - mean_grad[q.mg_off + i]) * (1.0f - q.rho);
        mean_grad[q.mg_off + i] = mg;
        denominator = ms - mg * mg;
    }
    float step = grad / sqrt(denominator + q.epsilon) * q.lr;
    if (q.use_momentum) {
        step = momentum_buf[q.mom_off + i] * q.momentum + step;
        momentum_buf[q.mom_off + i] = step;
    }
    p[q.p_off + i] -= step;
}

struct AdamaxParams {
    uint p_off, g_off, m_off, u_off;
    uint n;
    float beta_1, beta_2, epsilon;
    float step_size;  // lr / (1 - beta_1^t)
};

// m <- b1*m + (1-b1)*g; u <- max(b2*u, |g|); p <- p - step_size * m / (u + epsilon).
kernel void adamax(device float* p [[buffer(0)]], device const float* g [[buffer(1)]],
                   device float* m [[buffer(2)]], device float* u [[buffer(3)]],
                   constant AdamaxParams& q [[buffer(4)]], uint i [[thread_position_in_grid]]) {
    if (i >= q.n) {
        return;
    }
    const float grad = g[q.g_off + i];
    const float m_new = m[q.m_off + i] + (grad - m[q.m_off + i]) * (1.0f - q.beta_1);
    const float u_new = max(u[q.u_off + i] * q.beta_2, fabs(grad));
    m[q.m_off + i] = m_new;
    u[q.u_off + i] = u_new;
    p[q.p_off + i] -= m_new / (u_new + q.epsilon) * q.step_size;
}

struct NadamParams {
    uint p_off, g_off, m_off, v_off;
    uint n;
    float beta_1, beta_2;
    float c_m;      // lr * mu_next / (1 - mu_product * mu_next) * sqrt(1 - beta_2^t)
    float c_g;      // lr * (1 - mu_t) / (1 - mu_product) * sqrt(1 - beta_2^t)
    float epsilon;  // epsilon * sqrt(1 - beta_2^t)
};

// m <- b1*m + (1-b1)*g; v <- b2*v + (1-b2)*g^2; p <- p - (c_m*m + c_g*g) / (sqrt(v) + epsilon)
// (Dozat's Nesterov momentum with Keras's momentum schedule; the host keeps the schedule).
kernel void nadam(device float* p [[buffer(0)]], device const float* g [[buffer(1)]],
                  device float* m [[buffer(2)]], device float* v [[buffer(3)]],
                  constant NadamParams& q [[buffer(4)]], uint i [[thread_position_in_grid]]) {
    if (i >= q.n) {
        return;
    }
    const float grad = g[q.g_off + i];
    const float m_new = m[q.m_off + i] + (grad - m[q.m_off + i]) * (1.0f - q.beta_1);
    const float v_new = v[q.v_off + i] + (grad * grad - v[q.v_off + i]) * (1.0f - q.beta_2);
    m[q.m_off + i] = m_new;
    v[q.v_off + i] = v_new;
    p[q.p_off + i] -= (m_new * q.c_m + grad * q.c_g) / (sqrt(v_new) + q.epsilon);
}

struct AdadeltaParams {
    uint p_off, g_off, a_off, d_off;
    uint n;
    float lr, rho, epsilon;
};

// a <- rho*a + (1-rho)*g^2; delta = sqrt(d + eps) / sqrt(a + eps) * g; d <- rho*d + (1-rho)*delta^2;
// p <- p - lr*delta (Zeiler 2012, with Keras's learning rate).
kernel void adadelta(device float* p [[buffer(0)]], device const float* g [[buffer(1)]],
                     device float* a [[buffer(2)]], device float* d [[buffer(3)]],
                     constant AdadeltaParams& q [[buffer(4)]], uint i [[thread_position_in_grid]]) {
    if (i >= q.n) {
        return;
    }
    const float grad = g[q.g_off + i];
    const float a_new = a[q.a_off + i] + (grad * grad - a[q.a_off + i]) * (1.0f - q.rho);
    a[q.a_off + i] = a_new;
    const float delta = sqrt((d[q.d_off + i] + q.epsilon) / (a_new + q.epsilon)) * grad;
    d[q.d_off + i] += (delta * delta - d[q.d_off + i]) * (1.0f - q.rho);
    p[q.p_off + i] -= delta * q.lr;
}
