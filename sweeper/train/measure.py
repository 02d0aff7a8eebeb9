"""What a logged step measures: named [R, layers] or [R] tensors; no file I/O here.

Kernel-gradient statistics describe how much each weight matrix is told to move; the
bias gradient of a Dense layer is dL/dz summed over the batch, i.e. the back-propagated
signal that reaches the layer (Glorot & Bengio 2010 track exactly this to see
vanishing).
"""

from sweeper.contract import BIAS, BINS, HISTOGRAMS, KERNEL, ParamSpec
from sweeper.train._tf import tf
from sweeper.train.optim import run_norm


PACKET = 16  # floats in the widest SIMD register TensorFlow's kernels may use


def padded(tensors, model):
    """A nest of [R, ...] tensors to measure, each with its run axis padded to a
    multiple of PACKET by copies of run 0.

    TensorFlow's elementwise kernels compute a tensor's entries in SIMD packets and
    the last few, past the last whole packet, one by one, and some ops round
    otherwise one by one: an entry's value would depend on how many runs share the
    tensor (measured: a run's `drift`, a ratio of two norms, moved by an ulp between
    a group of 8 and the run alone). With whole packets only, it does not. A model
    that trains its runs one at a time always has the same stack.
    """
    if getattr(model, "max_runs", None) == 1:
        return tensors

    def pad(t):
        extra = -t.shape[0] % PACKET
        return tf.concat([t, tf.repeat(t[:1], extra, axis=0)], 0) if extra else t

    return tf.nest.map_structure(pad, tensors)


def by_role(tensors: list, specs: list[ParamSpec], role: str) -> list:
    """The tensors of one role (KERNEL, BIAS), one per layer, in layer order."""
    return [t for t, spec in zip(tensors, specs) if spec.role == role]


def gradient_stats(specs, params, grads, clipped, new_params) -> dict:
    """Per-layer gradient and weight statistics of the model's kernels and biases."""
    kernels, new_kernels = (
        by_role(params, specs, KERNEL),
        by_role(new_params, specs, KERNEL),
    )
    kernel_grads = by_role(grads, specs, KERNEL)
    stats = {
        "grad_norm": [run_norm(g) for g in kernel_grads],
        "grad_var": [
            tf.math.reduce_variance(g, axis=_entries(g)) for g in kernel_grads
        ],
        "grad_max": [_max_abs(g) for g in kernel_grads],
        "grad_zero_frac": [
            tf.reduce_mean(tf.cast(tf.equal(g, 0.0), g.dtype), axis=_entries(g))
            for g in kernel_grads
        ],
        "grad_norm_clipped": [run_norm(g) for g in by_role(clipped, specs, KERNEL)],
        "bias_grad_norm": _bias_norms(specs, grads),
        "weight_norm": [run_norm(w) for w in kernels],
        "update_ratio": [
            run_norm(new - w) / run_norm(w) for w, new in zip(kernels, new_kernels)
        ],
    }
    return {name: tf.stack(values, axis=1) for name, values in stats.items()}


def _entries(t: tf.Tensor) -> list[int]:
    """Every axis of a [R, ...] tensor but the run axis."""
    return list(range(1, t.shape.rank))


def _bias_norms(specs, grads) -> list:
    """Each kernel layer's bias-gradient norm, NaN for a layer without a bias."""
    biases = {s.layer: g for g, s in zip(grads, specs) if s.role == BIAS}
    layers = [s.layer for s in specs if s.role == KERNEL]
    kernel = by_role(grads, specs, KERNEL)[0]
    nan = tf.fill(tf.shape(kernel)[:1], float("nan"))
    return [run_norm(biases[layer]) if layer in biases else nan for layer in layers]


def drift(specs, params, initial) -> tf.Tensor:
    """|W - W_0| / |W_0| of each layer's kernel, [R, layers]."""
    return kernel_drift(by_role(params, specs, KERNEL), by_role(initial, specs, KERNEL))


def kernel_drift(kernels: list, initial: list) -> tf.Tensor:
    """|W - W_0| / |W_0| of each of the [R, ...] kernels, [R, layers]."""
    moved = [run_norm(w - w0) / run_norm(w0) for w, w0 in zip(kernels, initial)]
    return tf.stack(moved, axis=1)


def _max_abs(g: tf.Tensor) -> tf.Tensor:
    """Largest |entry| of each run's [R, in, out] tensor, NaN if any entry is NaN.

    tf.reduce_max may skip NaNs (XLA's does): an all-NaN gradient would read -inf.
    """
    has_nan = tf.reduce_any(tf.math.is_nan(g), axis=_entries(g))
    largest = tf.reduce_max(tf.abs(g), axis=_entries(g))
    return tf.where(has_nan, tf.constant(float("nan"), g.dtype), largest)


def global_norm(grads) -> tf.Tensor:
    """Joint L2 norm of all of a run's gradients, [R]."""
    return tf.sqrt(tf.add_n([tf.square(run_norm(g)) for g in grads]))


def per_example_stats(deltas: list, inputs: list) -> dict:
    """`delta_rms` and `grad_norm_per_example` of each layer, [R, layers].

    `deltas` are dL/dz of the batch-mean loss, [R, batch, units]: example b's own
    signal is batch * deltas[:, b] (L = mean_b L_b). A Dense layer's kernel gradient
    is the rank-one outer product of its input h_b ([R, batch, in]; None for other
    layers: NaN) and that signal, of norm |h_b| |delta_b|.
    """
    delta_rms, grad_rms = [], []
    for delta, h in zip(deltas, inputs):
        batch = tf.cast(tf.shape(delta)[1], delta.dtype)
        delta2 = tf.reduce_sum(tf.square(delta * batch), axis=2)  # [R, batch]
        delta_rms.append(tf.sqrt(tf.reduce_mean(delta2, axis=1)))
        if h is None:  # not a Dense layer: its per-example gradient is not rank one
            grad_rms.append(tf.fill(tf.shape(delta2)[:1], float("nan")))
            continue
        h2 = tf.reduce_sum(tf.square(h), axis=2)
        grad_rms.append(tf.sqrt(tf.reduce_mean(delta2 * h2, axis=1)))
    return {
        "delta_rms": tf.stack(delta_rms, axis=1),
        "grad_norm_per_example": tf.stack(grad_rms, axis=1),
    }


def probe_stats(activation_inputs, outputs, relu_like: bool) -> dict:
    """Activation RMS and dead units over the probe inputs.

    `activation_inputs` and `outputs` hold what each layer's activation reads (its
    pre-activation z, normalized if the net normalizes) and each layer's output h,
    [R, probe, units].
    """
    nan = tf.fill(tf.shape(outputs[-1])[:1], float("nan"))
    act_rms = [tf.sqrt(tf.reduce_mean(tf.square(h), axis=[1, 2])) for h in outputs]
    dead = []
    for z in activation_inputs[:-1]:
        never_active = tf.reduce_all(z <= 0.0, axis=1)  # [R, units]
        dead.append(tf.reduce_mean(tf.cast(never_active, z.dtype), axis=1))
    if not relu_like:
        dead = [nan for _ in dead]
    dead.append(nan)  # the output layer is linear
    return {"act_rms": tf.stack(act_rms, axis=1), "dead_frac": tf.stack(dead, axis=1)}


# The dtype of each of the contract's HISTOGRAM_ARRAYS that `histograms` returns.
HISTOGRAM_DTYPES = {
    f"{name}_{part}": dtype
    for name in HISTOGRAMS
    for part, dtype in (("counts", tf.int32), ("range", tf.float32))
}


def histograms(kernels, kernel_grads) -> dict:
    """Per-layer histograms of the kernel gradients and the kernels, for TensorBoard.

    Per HISTOGRAMS name: `<name>_counts` [R, layers, BINS] and `<name>_range`
    [R, layers, 2], the lowest and highest finite entry, whose span the buckets cut
    into BINS equal parts. O(BINS) per run and layer, whatever the layer's size.
    """
    stats = {}
    for name, tensors in {"grad": kernel_grads, "weights": kernels}.items():
        counts, ranges = zip(*[_histogram(t) for t in tensors])
        stats[f"{name}_counts"] = tf.stack(counts, axis=1)
        stats[f"{name}_range"] = tf.stack(ranges, axis=1)
    return stats


def _histogram(t: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """BINS bucket counts [R, BINS] and [lowest, highest] [R, 2] of each run's entries.

    Bucketed as TensorBoard buckets (its summary_v2): floor((x - lowest) / width),
    the highest entry in the last bucket, and all entries there when they are all
    equal. Non-finite entries are not counted; a run with none finite reads [0, 0].
    tf.histogram_fixed_width has no XLA kernel, and counts one run at a time: each
    run's buckets are segments of one unsorted_segment_sum instead.
    """
    runs = tf.shape(t)[0]
    flat = tf.reshape(t, [runs, -1])
    finite = tf.math.is_finite(flat)
    low = tf.reduce_min(tf.where(finite, flat, float("inf")), axis=1, keepdims=True)
    high = tf.reduce_max(tf.where(finite, flat, -float("inf")), axis=1, keepdims=True)
    empty = low > high
    low, high = tf.where(empty, 0.0, low), tf.where(empty, 0.0, high)
    width = high - low
    scaled = tf.math.divide_no_nan(flat - low, width) * BINS
    bucket = tf.where(width > 0, tf.cast(tf.floor(scaled), tf.int32), BINS - 1)
    bucket = tf.clip_by_value(bucket, 0, BINS - 1) + BINS * tf.range(runs)[:, None]
    discard = runs * BINS  # one segment past the runs' buckets
    bucket = tf.where(finite, bucket, discard)
    counts = tf.math.unsorted_segment_sum(tf.ones_like(bucket), bucket, discard + 1)
    ranges = tf.concat([low, high], axis=1)
    return tf.reshape(counts[:discard], [runs, BINS]), ranges
