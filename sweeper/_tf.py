"""TensorFlow, imported once, quietly, with sweeper's thread settings.

TensorFlow's C++ start-up lines (oneDNN notice, CUDA probing on a CPU-only machine) are
written to file descriptor 2 before TF_CPP_MIN_LOG_LEVEL takes effect, and they bury
sweeper's own output; they are silenced for the import and device set-up only.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


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
