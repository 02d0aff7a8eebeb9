"""Independent seeds for the parts of one run, so each part draws its own stream."""

import numpy as np

DATA_STREAM = 0xDA7A  # keeps a task's data seeds apart from the layer seeds


def seed_for(seed: int, *path: int) -> int:
    """An independent 31-bit seed for one part of a run (a layer's kernel, the data)."""
    return int(np.random.SeedSequence([seed, *path]).generate_state(1)[0] >> 1)
