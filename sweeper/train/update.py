"""One training step's arithmetic for R stacked runs, before any run is kept or
reverted: shared by the compiled loop (train/engine.py) and by the replay of a
diverged run's last step (train/divergence.py)."""

from sweeper.train import optim
from sweeper.train._tf import tf


class Update:
    """A model's parameters as flat [R, P] vectors, and one update of them."""

    def __init__(self, task, model, optimizers: tuple, clips: tuple):
        self.task, self.model = task, model
        self.optimizers, self.clips = optimizers, clips  # the kinds any run uses
        self.specs = model.param_specs()
        self.shapes = [spec.shape for spec in self.specs]
        self.counts = [spec.size for spec in self.specs]

    def flatten(self, tensors):
        """Per-parameter [R, ...] tensors as one [R, P] vector per run."""
        return tf.concat(
            [tf.reshape(t, [-1, n]) for t, n in zip(tensors, self.counts)], axis=1
        )

    def unflatten(self, flat):
        pieces = tf.split(flat, self.counts, axis=1)
        return [tf.reshape(p, [-1, *s]) for p, s in zip(pieces, self.shapes)]

    def __call__(self, params, slots, buffers, x, y, t, hp) -> dict:
        """Every run's loss, gradients (as given and clipped), its parameters and
        their update as flat vectors, its new optimizer slots and non-trainable
        state, and each layer's output h: nothing kept or reverted yet."""
        task, model = self.task, self.model
        with tf.GradientTape() as tape:
            tape.watch(params)
            _, hs, _, new_buffers, _ = model.forward(params, x, buffers)
            losses = task.loss(task.predict(hs[-1], hp), y)
            total = tf.reduce_sum(losses)
        grads = tape.gradient(total, params)
        # The optimizer sees every parameter of a run as one flat [R, P] vector, and
        # the clips but the per-tensor norm, the finite checks and the keep-or-revert
        # after it work on it: elementwise, the same arithmetic, but one fused kernel
        # each instead of one per tensor, which a step's time and XLA's compile time
        # grow with.
        flat_params, flat_grads = self.flatten(params), self.flatten(grads)
        value, norm = hp["clip_value"], hp["clip_norm"]
        if "norm" in self.clips:
            flat_clipped = self.flatten(optim.clip_each(grads, value, norm, self.clips))
        else:
            (flat_clipped,) = optim.clip_each([flat_grads], value, norm, self.clips)
        if "global_norm" in self.clips:
            shrink = optim.global_shrink(flat_clipped, hp["clip_global_norm"])
            flat_clipped = flat_clipped * shrink[:, None]
        flat_new, new_slots = optim.mixed_update(
            self.optimizers, hp["optimizer"], flat_params, flat_clipped, slots, hp, t
        )
        return {
            "losses": losses,
            "grads": grads,
            "hs": hs,
            "flat_params": flat_params,
            "flat_grads": flat_grads,
            "flat_clipped": flat_clipped,
            "flat_new": flat_new,
            "new_slots": new_slots,
            "new_buffers": new_buffers,
        }
