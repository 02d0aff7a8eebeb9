"""TensorFlow, imported once, quietly, with sweeper's thread and XLA settings.

TensorFlow's C++ start-up lines (oneDNN notice, CUDA probing on a CPU-only machine) are
written to file descriptor 2 before TF_CPP_MIN_LOG_LEVEL takes effect, and they bury
sweeper's own output; they are silenced for the import and device set-up only.

XLA's CPU code is limited to AVX, which has no fused multiply-add. With FMA, XLA turns
`a * b + c` into one instruction (one rounding instead of two) wherever its fusion puts
both ops in one kernel, and that depends on the whole program: a run rounded differently
in a group of other optimizers than alone, and chaotic runs then drift apart. Without
it every float32 op rounds once, as numpy and eager TensorFlow do, and a run's numbers
are the same bits in every program it can be part of (tests/test_engine.py). It must be
set before XLA first reads its flags; an `xla_cpu_max_isa` of the user's own wins.
The persistent compile cache (train/compile_cache.py) is set up there too.
"""

import importlib.metadata
import os
import sys

from sweeper.train import compile_cache


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
compile_cache.enable()  # after the flags it is keyed by, before TensorFlow reads them


def _import_quietly():
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow

        # One TensorFlow thread per process measured fastest for these small nets
        # (parallelism comes from processes); must be set before devices start.
        tensorflow.config.threading.set_intra_op_parallelism_threads(1)
        tensorflow.config.threading.set_inter_op_parallelism_threads(1)
        tensorflow.config.list_logical_devices()  # device start-up, while quiet
        # sweeper traces one program per shape on purpose; TF's "retracing" advice
        # would only confuse a user here.
        tensorflow.get_logger().setLevel("ERROR")
    except RuntimeError:
        pass  # the caller had started TensorFlow already: keep its settings
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tensorflow


tf = _import_quietly()
