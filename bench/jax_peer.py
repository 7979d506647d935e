"""The strongest CPU peer: the book's epoch as ONE XLA program (``jax.jit`` of
``jax.lax.scan`` over the mini-batches), float32, XLA on one thread.

Installed by the ``bench`` extra; ``Unavailable`` without it.  XLA's thread
pool is set by ``XLA_FLAGS`` when JAX is first imported, so one-thread runs
need it set before then: this module sets it unless the caller already has.
"""
import os

import numpy as np


class Unavailable(Exception):
    """JAX cannot run here; the message says why."""


def _jax():
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1")
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as error:
        raise Unavailable(f"JAX is not installed ({error}); `pip install jax` to compare") \
            from error
    return jax, jnp


def build(X, Y, sizes, order, eta, lmbda, mini_batch_size):
    """A callable training one epoch of the book's SGD in JAX (sigmoid,
    cross-entropy, L2 on the weights only).  The last partial mini-batch is
    left out: ``lax.scan`` needs equal steps (the benchmark's n are multiples)."""
    jax, jnp = _jax()
    n = len(X) // mini_batch_size * mini_batch_size
    X = jnp.asarray(np.ascontiguousarray(X, dtype=np.float32))
    Y = jnp.asarray(np.ascontiguousarray(Y, dtype=np.float32))
    batches = jnp.asarray(np.asarray(order[:n], dtype=np.int32).reshape(-1, mini_batch_size))
    rng = np.random.default_rng(0)
    params = [(jnp.asarray(rng.normal(0, 1 / np.sqrt(a), (a, b)), jnp.float32),
               jnp.asarray(rng.normal(0, 1, b), jnp.float32)) for a, b in zip(sizes[:-1],
                                                                              sizes[1:])]
    keep = 1.0 - eta * lmbda / len(order)

    def cost(params, x, y):
        for w, b in params[:-1]:
            x = jax.nn.sigmoid(x @ w + b)
        z = x @ params[-1][0] + params[-1][1]
        return jnp.sum(jax.nn.softplus(-z) * y + jax.nn.softplus(z) * (1 - y)) / x.shape[0]

    def step(params, rows):
        grads = jax.grad(cost)(params, X[rows], Y[rows])
        return [(keep * w - eta * gw, b - eta * gb)
                for (w, b), (gw, gb) in zip(params, grads)], None

    epoch = jax.jit(lambda params: jax.lax.scan(step, params, batches)[0])
    state = {"params": params}

    def run():
        state["params"] = jax.block_until_ready(epoch(state["params"]))
    return run
