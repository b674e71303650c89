"""Fused optimizer updates on Metal (kernels/optimizers.metal): one launch per step for the whole arena.

Every optimizer has a kernel: SGD, Adam (with AMSGrad, and AdamW, whose
decoupled decay the optimizer applies before through ``scale_``), Adagrad,
RMSprop, Adamax, Nadam and Adadelta. Arrays a kernel cannot take (float64,
host memory) run the defaults in seqnn.backends.fused.
"""
from __future__ import annotations

import math


class OptimizerOps:
    def sgd_update(self, p, g, velocity, lr, momentum, nesterov):
        arrays = (p, g, p if velocity is None else velocity)
        if not self._kernel_ready(*arrays):
            return super().sgd_update(p, g, velocity, lr, momentum, nesterov)
        self._device.run("optimizers", "sgd", p.size, arrays, "IffII", p.size, lr, momentum,
                         int(velocity is not None), int(nesterov))
        return p

    def adam_update(self, p, g, m, v, v_max, lr, beta_1, beta_2, epsilon, step):
        arrays = (p, g, m, v, v if v_max is None else v_max)
        if not self._kernel_ready(*arrays):
            return super().adam_update(p, g, m, v, v_max, lr, beta_1, beta_2, epsilon, step)
        root_bc2 = math.sqrt(1.0 - beta_2**step)
        self._device.run("optimizers", "adam", p.size, arrays, "IffffI", p.size, beta_1, beta_2,
                         lr * root_bc2 / (1.0 - beta_1**step), epsilon * root_bc2, int(v_max is not None))
        return p

    def adagrad_update(self, p, g, accumulator, lr, epsilon):
        arrays = (p, g, accumulator)
        if not self._kernel_ready(*arrays):
            return super().adagrad_update(p, g, accumulator, lr, epsilon)
        self._device.run("optimizers", "adagrad", p.size, arrays, "Iff", p.size, lr, epsilon)
        return p

    def rmsprop_update(self, p, g, mean_square, mean_grad, momentum_buf, lr, rho, momentum, epsilon):
        arrays = (p, g, mean_square, mean_square if mean_grad is None else mean_grad,
                  mean_square if momentum_buf is None else momentum_buf)
        if not self._kernel_ready(*arrays):
            return super().rmsprop_update(p, g, mean_square, mean_grad, momentum_buf, lr, rho, momentum, epsilon)
        self._device.run("optimizers", "rmsprop", p.size, arrays, "IffffII", p.size, lr, rho, momentum, epsilon,
                         int(mean_grad is not None), int(momentum_buf is not None))
        return p

    def adamax_update(self, p, g, m, u, lr, beta_1, beta_2, epsilon, step):
        arrays = (p, g, m, u)
        if not self._kernel_ready(*arrays):
            return super().adamax_update(p, g, m, u, lr, beta_1, beta_2, epsilon, step)
        self._device.run("optimizers", "adamax", p.size, arrays, "Iffff", p.size, beta_1, beta_2, epsilon,
                         lr / (1.0 - beta_1**step))
        return p

    def nadam_update(self, p, g, m, v, lr, beta_1, beta_2, epsilon, mu_t, mu_next, mu_product, step):
        arrays = (p, g, m, v)
        if not self._kernel_ready(*arrays):
            return super().nadam_update(p, g, m, v, lr, beta_1, beta_2, epsilon, mu_t, mu_next, mu_product, step)
        root_bc2 = math.sqrt(1.0 - beta_2**step)
        c_m = lr * mu_next / (1.0 - mu_product * mu_next) * root_bc2
        c_g = lr * (1.0 - mu_t) / (1.0 - mu_product) * root_bc2
        self._device.run("optimizers", "nadam", p.size, arrays, "Ifffff", p.size, beta_1, beta_2, c_m, c_g,
                         epsilon * root_bc2)
        return p

    def adadelta_update(self, p, g, mean_square_grad, mean_square_delta, lr, rho, epsilon):
        arrays = (p, g, mean_square_grad, mean_square_delta)
        if not self._kernel_ready(*arrays):
            return super().adadelta_update(p, g, mean_square_grad, mean_square_delta, lr, rho, epsilon)
        self._device.run("optimizers", "adadelta", p.size, arrays, "Ifff", p.size, lr, rho, epsilon)
        return p
