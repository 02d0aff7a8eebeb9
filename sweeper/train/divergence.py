"""Where a diverged run's numbers stopped being finite: its first non-finite step,
replayed.

A run keeps its last finite state once a step makes its loss, gradients or update
non-finite (train/engine.py), so the state it ends with is the one that step started
from. Replaying that step on the same batch (eagerly, one run) shows where the first
non-finite value appears: in the forward pass (the first layer whose output is not
finite, else the loss), in the backward pass (of the layers whose kernel gradient is
not finite, the one nearest the output: back-propagation reaches it first), or in the
update (the layers whose new weights or optimizer state are not finite while loss and
gradients are). Eager arithmetic can round otherwise than the compiled program; a step
that stays finite here says so.
"""

from sweeper.contract import KERNEL
from sweeper.train import measure
from sweeper.train._tf import tf
from sweeper.train.update import Update


def where(update: Update, state, data, hp: dict, diverged_at, names=None) -> list:
    """Per run, where its first non-finite step went non-finite (None for a run that
    never diverged). `state`: the runs' final (params, slots, buffers)."""
    params, slots, buffers = state
    found = []
    for run, step in enumerate(int(t) for t in diverged_at):
        if step < 0:
            found.append(None)
            continue
        one = lambda tensors, r=run: [t[r : r + 1] for t in tensors]  # noqa: E731
        x, y = update.task.batch(data, step)
        done = update(
            one(params),
            one(slots),
            one(buffers),
            x[run : run + 1],
            y[run : run + 1],
            tf.constant(step),
            {name: value[run : run + 1] for name, value in hp.items()},
        )
        found.append(_first_non_finite(update, done, names))
    return found


def _bad(tensors) -> list[int]:
    """Indices of the tensors with any entry that is not finite."""
    return [
        i
        for i, t in enumerate(tensors)
        if not bool(tf.reduce_all(tf.math.is_finite(t)))
    ]


def _layer(index: int, names) -> str:
    return f"layer {index}" + (f" ({names[index]})" if names else "")


def _first_non_finite(update: Update, done: dict, names) -> str:
    bad = _bad(done["hs"])
    if bad:
        return f"the forward pass: {_layer(bad[0], names)}'s output"
    if _bad([done["losses"]]):
        return "the loss"
    kernels = measure.by_role(done["grads"], update.specs, KERNEL)
    bad = _bad(kernels)
    if bad:
        return f"the backward pass: the gradient of {_layer(bad[-1], names)}"
    pieces = [update.unflatten(done["flat_new"])]
    pieces += [update.unflatten(slot) for slot in done["new_slots"]]
    layers = sorted(
        {update.specs[i].layer for piece in pieces for i in _bad(piece)} - {-1}
    )
    if layers:
        return "the update of " + ", ".join(_layer(i, names) for i in layers)
    return "not reproduced outside the compiled program (a rounding at the edge)"
