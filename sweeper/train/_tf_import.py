"""TensorFlow imported once, quietly, with sweeper's XLA settings, and not started.

Not started: no device and none of TensorFlow's threads yet (train/_tf.py starts them),
so a process may fork after this import (the sweep's fork server, sweep/pool.py).

TensorFlow's C++ start-up lines (oneDNN notice, CUDA probing on a CPU-only machine) are
written to file descriptor 2 before TF_CPP_MIN_LOG_LEVEL takes effect, and they bury
sweeper's own output; they are silenced for the import (and, in train/_tf.py, for the
device set-up).

XLA's CPU code is limited to AVX, which has no fused multiply-add. With FMA, XLA turns
`a * b + c` into one instruction (one rounding instead of two) wherever its fusion puts
both ops in one kernel, and that depends on the whole program: a run rounded differently
in a group of other optimizers than alone, and chaotic runs then drift apart. Without
it every float32 op rounds once, as numpy and eager TensorFlow do, and a run's numbers
are the same bits in every program it can be part of (tests/test_engine.py). It must be
set before XLA first reads its flags; an `xla_cpu_max_isa` of the user's own wins.
"""

import importlib.metadata
import os
import sys
from contextlib import contextmanager


def _tensorflow_is(prefix: str) -> bool:
    try:
        return importlib.metadata.version("tensorflow").startswith(prefix)
    except importlib.metadata.PackageNotFoundError:
        return False


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The engine's measurements run as TensorFlow graph ops (train/engine.py), and
# oneDNN's graph rewrite fuses a stacked layer norm into a kernel that takes one
# scale for all runs (it fails: "scale must be 1D tensor"). Read at TensorFlow's import.
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
_XLA_FLAGS = os.environ.get("XLA_FLAGS", "")
if "xla_cpu_max_isa" not in _XLA_FLAGS:
    _XLA_FLAGS = f"{_XLA_FLAGS} --xla_cpu_max_isa=AVX".strip()
# XLA's older (elemental) CPU fusion emitters compile the small nets' kernels faster
# than its MLIR ones, the default, to the same bits (measured on every activation,
# NOTES.md). An XLA that does not know a flag of XLA_FLAGS stops the process, so it is
# set only on the TensorFlow it was measured with; a user's own setting wins.
if "xla_cpu_use_fusion_emitters" not in _XLA_FLAGS and _tensorflow_is("2.21."):
    _XLA_FLAGS += " --xla_cpu_use_fusion_emitters=false"
os.environ["XLA_FLAGS"] = _XLA_FLAGS


@contextmanager
def quiet_stderr():
    """File descriptor 2 sent to /dev/null for the block (C++ writes to it directly)."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# Only sweeper's own processes (a worker, a run) get the compile cache, not a user's
# that had loaded TensorFlow for a fit of its own before importing sweeper.keras.
LOADED_HERE = "tensorflow" not in sys.modules
with quiet_stderr():
    import tensorflow  # noqa: F401 (started in train/_tf.py)
