"""An independent numpy reference of what the engine computes, for the tests.

Written from the papers and the Keras / TensorFlow docs, never from sweeper's code: an
MLP's forward and hand-derived backward pass, the identity task's loss, the four clip
rules, the five optimizer updates, and the measurements as measure.py's comments define
them. One run (no run axis), in float64; `simulate(..., dtype=np.float32)` runs the same
arithmetic in float32, to tell how far plain float32 rounding alone strays.
"""

import math

import numpy as np

# SELU's constants (Klambauer et al. 2017, eq. 14).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
LEAKY_ALPHA = 0.2  # the slope registry.activation gives leaky_relu

_erf = np.frompyfunc(math.erf, 1, 1)


def _std_normal_cdf(z):
    return 0.5 * (1.0 + _erf(z / math.sqrt(2.0)).astype(z.dtype))


def _std_normal_pdf(z):
    return np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# name -> (f(z), f'(z)); the derivative at a kink is the one TensorFlow's gradient uses
# (relu: 0 at z = 0; elu, selu, leaky_relu: the z > 0 side's only for z > 0).
ACTIVATIONS = {
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(z.dtype)),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "linear": (lambda z: z, np.ones_like),
    "elu": (
        lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0.0))),
        lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0))),
    ),
    # exact GELU (Hendrycks & Gimpel 2016): z * Phi(z); derivative Phi(z) + z * phi(z)
    "gelu": (
        lambda z: z * _std_normal_cdf(z),
        lambda z: _std_normal_cdf(z) + z * _std_normal_pdf(z),
    ),
    "selu": (
        lambda z: (
            SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))
        ),
        lambda z: (
            SELU_SCALE * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0.0)))
        ),
    ),
    "leaky_relu": (
        lambda z: np.where(z > 0, z, LEAKY_ALPHA * z),
        lambda z: np.where(z > 0, 1.0, LEAKY_ALPHA).astype(z.dtype),
    ),
}
RELU_LIKE = ("relu", "elu", "gelu", "selu", "leaky_relu")


def forward(layers, x, activation):
    """Pre-activations z and outputs h of every layer for inputs x [batch, in]."""
    f, _ = ACTIVATIONS[activation]
    zs, hs, h = [], [], x
    for i, (kernel, bias) in enumerate(layers):
        z = h @ kernel + bias
        h = f(z) if i < len(layers) - 1 else z  # the output layer is linear
        zs.append(z)
        hs.append(h)
    return zs, hs


def loss_and_grads(layers, x, activation, output_scale, deltas=None):
    """Loss mean((x - s * out)^2) and [(dL/dkernel, dL/dbias)] per layer; `deltas`, a
    list, receives dL/dz of every layer, first layer first."""
    _, df = ACTIVATIONS[activation]
    zs, hs = forward(layers, x, activation)
    error = x - output_scale * hs[-1]
    loss = np.mean(error**2)
    dz = -2.0 * output_scale * error / error.size  # dL/dz of the (linear) output layer
    grads, dzs = [], []
    for i in range(len(layers) - 1, -1, -1):
        h_in = x if i == 0 else hs[i - 1]
        grads.append((h_in.T @ dz, dz.sum(axis=0)))
        dzs.append(dz)
        if i > 0:
            dz = (dz @ layers[i][0].T) * df(zs[i - 1])
    if deltas is not None:
        deltas.extend(dzs[::-1])
    return loss, grads[::-1]


def per_example(layers, x, activation, output_scale):
    """delta_rms and grad_norm_per_example of each layer: each example's own loss
    differentiated alone (a batch of one), its norms averaged over the batch."""
    delta2, grad2 = 0.0, 0.0
    for b in range(len(x)):
        deltas = []
        _, grads = loss_and_grads(
            layers, x[b : b + 1], activation, output_scale, deltas
        )
        delta2 = delta2 + np.array([np.sum(d**2) for d in deltas])
        grad2 = grad2 + np.array([np.sum(gk**2) for gk, _ in grads])
    return list(np.sqrt(delta2 / len(x))), list(np.sqrt(grad2 / len(x)))


def clip(name, grads, threshold):
    """Clip a run's gradients as tf.clip_by_value / _by_norm / _by_global_norm do."""
    if name == "none":
        return [g.copy() for g in grads]
    if name == "value":
        return [np.clip(g, -threshold, threshold) for g in grads]
    if name == "norm":  # t * clip_norm / max(l2norm(t), clip_norm), per tensor
        return [g * threshold / max(np.linalg.norm(g), threshold) for g in grads]
    if name == "global_norm":  # t_i * clip_norm / max(global_norm, clip_norm)
        total = math.sqrt(sum(np.sum(g**2) for g in grads))
        return [g * threshold / max(total, threshold) for g in grads]
    raise ValueError(name)


def init_slots(name, param, hp):
    """Optimizer state of one parameter."""
    if name == "sgd":
        return []
    if name == "adam":
        return [np.zeros_like(param), np.zeros_like(param)]  # m, v
    if name == "adagrad":
        return [np.full_like(param, hp["initial_accumulator"])]
    return [np.zeros_like(param)]  # momentum's velocity, rmsprop's mean square


def update(name, param, grad, slots, hp, step):
    """One update of one parameter after `step` earlier ones; returns (param, slots).

    sgd, momentum: Keras SGD docs, velocity = momentum * velocity - lr g; w += velocity.
    adam: Kingma & Ba (2015) Algorithm 1 in the end-of-section-2 order Keras uses,
    lr_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t), w -= lr_t m / (sqrt(v) + epsilon).
    rmsprop: Hinton's lecture 6e as the Keras docs state it, w -= lr g / sqrt(v + eps).
    adagrad: Duchi et al. (2011), diagonal; the accumulator starts at its initial value.
    """
    lr, eps = hp["lr"], hp["epsilon"]
    if name == "sgd":
        return param - lr * grad, []
    if name == "momentum":
        velocity = hp["momentum"] * slots[0] - lr * grad
        return param + velocity, [velocity]
    if name == "adam":
        b1, b2 = hp["beta_1"], hp["beta_2"]
        t = step + 1
        m = b1 * slots[0] + (1 - b1) * grad
        v = b2 * slots[1] + (1 - b2) * grad**2
        lr_t = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        return param - lr_t * m / (np.sqrt(v) + eps), [m, v]
    if name == "rmsprop":
        v = hp["rho"] * slots[0] + (1 - hp["rho"]) * grad**2
        return param - lr * grad / np.sqrt(v + eps), [v]
    if name == "adagrad":
        acc = slots[0] + grad**2
        return param - lr * grad / np.sqrt(acc + eps), [acc]
    raise ValueError(name)


def _norm(a):
    return float(np.sqrt(np.sum(np.square(a))))


def measure(
    layers, grads, clipped, new_layers, x, probe, activation, output_scale, initial
):
    """The engine's measurements of one step, as measure.py's comments define them;
    `initial`: the run's layers before its first step."""
    loss, _ = loss_and_grads(layers, x, activation, output_scale)
    kernel_grads = [gk for gk, _ in grads]
    row = {
        "grad_norm": [_norm(g) for g in kernel_grads],
        "grad_var": [float(np.var(g)) for g in kernel_grads],  # population variance
        "grad_max": [float(np.max(np.abs(g))) for g in kernel_grads],
        "grad_zero_frac": [float(np.mean(g == 0.0)) for g in kernel_grads],
        "grad_norm_clipped": [_norm(gk) for gk, _ in clipped],
        "bias_grad_norm": [_norm(gb) for _, gb in grads],
        "weight_norm": [_norm(k) for k, _ in layers],
        "update_ratio": [
            _norm(new[0] - old[0]) / _norm(old[0])
            for old, new in zip(layers, new_layers)
        ],
    }
    row["drift"] = [
        _norm(k - k0) / _norm(k0) for (k, _), (k0, _) in zip(layers, initial)
    ]
    row["delta_rms"], row["grad_norm_per_example"] = per_example(
        layers, x, activation, output_scale
    )
    zs, hs = forward(layers, probe, activation)
    row["act_rms"] = [float(np.sqrt(np.mean(h**2))) for h in hs]
    dead = [float(np.mean(np.all(z <= 0.0, axis=0))) for z in zs[:-1]]
    if activation not in RELU_LIKE:
        dead = [math.nan] * len(dead)
    row["dead_frac"] = dead + [math.nan]  # the output layer is linear
    estimate = output_scale * hs[-1]
    row["loss"] = loss
    row["probe_loss"] = float(np.mean((probe - estimate) ** 2))
    row["out_spread"] = float(np.std(estimate) / np.std(probe))
    row["accuracy"] = row["probe_accuracy"] = math.nan  # a regression task
    flat = [g for pair in grads for g in pair]
    row["global_grad_norm"] = math.sqrt(sum(_norm(g) ** 2 for g in flat))
    row["global_grad_norm_clipped"] = math.sqrt(
        sum(_norm(g) ** 2 for pair in clipped for g in pair)
    )
    return row


def simulate(
    layers,
    inputs,
    probe,
    activation,
    output_scale,
    optimizer,
    hp,
    clip_name,
    threshold,
    logged_steps,
    dtype=np.float64,
):
    """Train one run step by step and return {metric: [K, ...]} at the logged steps.

    `inputs` is [steps + 1, batch, in]; step t uses inputs[t]. The row at t = steps
    measures the trained weights with that step's update computed but not applied.
    """
    layers = [(np.asarray(k, dtype), np.asarray(b, dtype)) for k, b in layers]
    inputs, probe = np.asarray(inputs, dtype), np.asarray(probe, dtype)
    steps = len(inputs) - 1
    initial = layers
    slots = [[init_slots(optimizer, p, hp) for p in pair] for pair in layers]
    rows = []
    for t in range(steps + 1):
        x = inputs[t]
        _, grads = loss_and_grads(layers, x, activation, output_scale)
        flat = [g for pair in grads for g in pair]
        flat_clipped = clip(clip_name, flat, threshold)
        clipped = list(zip(flat_clipped[0::2], flat_clipped[1::2]))
        new_layers, new_slots = [], []
        for (k, b), (gk, gb), (sk, sb) in zip(layers, clipped, slots):
            k_new, sk_new = update(optimizer, k, gk, sk, hp, t)
            b_new, sb_new = update(optimizer, b, gb, sb, hp, t)
            new_layers.append((k_new, b_new))
            new_slots.append([sk_new, sb_new])
        if t in logged_steps:
            args = (x, probe, activation, output_scale, initial)
            rows.append(measure(layers, grads, clipped, new_layers, *args))
        if t < steps:
            layers, slots = new_layers, new_slots
    return {name: np.array([row[name] for row in rows]) for name in rows[0]}
