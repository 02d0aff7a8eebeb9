"""What the compiled step measures: named [R, layers] or [R] tensors; no file I/O here.

Kernel-gradient statistics describe how much each weight matrix is told to move; the
bias gradient of a Dense layer is dL/dz summed over the batch, i.e. the back-propagated
signal that reaches the layer (Glorot & Bengio 2010 track exactly this to see
vanishing).
"""

from sweeper._tf import tf
from sweeper.files import LAYER_METRICS, RUN_METRICS  # noqa: F401  (what is measured)
from sweeper.optim import run_norm

def gradient_stats(params, grads, clipped, new_params) -> dict:
    """Per-layer gradient and weight statistics; params alternate kernel, bias."""
    kernels, new_kernels = params[0::2], new_params[0::2]
    kernel_grads, bias_grads = grads[0::2], grads[1::2]
    stats = {
        "grad_norm": [run_norm(g) for g in kernel_grads],
        "grad_var": [tf.math.reduce_variance(g, axis=[1, 2]) for g in kernel_grads],
        "grad_max": [_max_abs(g) for g in kernel_grads],
        "grad_zero_frac": [
            tf.reduce_mean(tf.cast(tf.equal(g, 0.0), g.dtype), axis=[1, 2])
            for g in kernel_grads
        ],
        "grad_norm_clipped": [run_norm(g) for g in clipped[0::2]],
        "bias_grad_norm": [run_norm(g) for g in bias_grads],
        "weight_norm": [run_norm(w) for w in kernels],
        "update_ratio": [
            run_norm(new - w) / run_norm(w) for w, new in zip(kernels, new_kernels)
        ],
    }
    return {name: tf.stack(values, axis=1) for name, values in stats.items()}


def _max_abs(g: tf.Tensor) -> tf.Tensor:
    """Largest |entry| of each run's [R, in, out] tensor, NaN if any entry is NaN.

    Compiled by XLA, tf.reduce_max skips NaNs: an all-NaN gradient would read -inf.
    """
    has_nan = tf.reduce_any(tf.math.is_nan(g), axis=[1, 2])
    largest = tf.reduce_max(tf.abs(g), axis=[1, 2])
    return tf.where(has_nan, tf.constant(float("nan"), g.dtype), largest)


def global_norm(grads) -> tf.Tensor:
    """Joint L2 norm of all of a run's gradients, [R]."""
    return tf.sqrt(tf.add_n([tf.square(run_norm(g)) for g in grads]))


def probe_stats(pre_activations, outputs, estimate, target, relu_like: bool) -> dict:
    """Activation RMS, dead units, loss and output spread over the probe inputs.

    `pre_activations` and `outputs` hold each layer's z and h, [R, probe, units].
    """
    nan = tf.fill(tf.shape(estimate)[:1], float("nan"))
    act_rms = [tf.sqrt(tf.reduce_mean(tf.square(h), axis=[1, 2])) for h in outputs]
    dead = []
    for z in pre_activations[:-1]:
        never_active = tf.reduce_all(z <= 0.0, axis=1)  # [R, units]
        dead.append(tf.reduce_mean(tf.cast(never_active, z.dtype), axis=1))
    if not relu_like:
        dead = [nan for _ in dead]
    dead.append(nan)  # the output layer is linear
    error = tf.reduce_mean(tf.square(target - estimate), axis=[1, 2])
    spread = tf.math.reduce_std(estimate, axis=[1, 2]) / tf.math.reduce_std(target)
    return {
        "act_rms": tf.stack(act_rms, axis=1),
        "dead_frac": tf.stack(dead, axis=1),
        "probe_loss": error,
        "out_spread": spread,
    }
