"""TensorFlow, imported once (train/_tf_import.py) and started with sweeper's threads.

Every module that runs TensorFlow imports `tf` from here.
"""

from sweeper.train import compile_cache
from sweeper.train._tf_import import LOADED_HERE, quiet_stderr, tensorflow


def _start():
    # Here, not at the import: a worker forked after the import (sweep/pool.py) needs
    # a cache folder of its own; TensorFlow reads its flags at its first compile.
    if LOADED_HERE:
        compile_cache.enable()
    with quiet_stderr():
        try:
            # One TensorFlow thread per process measured fastest for these small nets
            # (parallelism comes from processes); must be set before devices start.
            tensorflow.config.threading.set_intra_op_parallelism_threads(1)
            tensorflow.config.threading.set_inter_op_parallelism_threads(1)
            tensorflow.config.list_logical_devices()  # device start-up, while quiet
            # sweeper traces one program per shape on purpose; TF's "retracing"
            # advice would only confuse a user here.
            tensorflow.get_logger().setLevel("ERROR")
        except RuntimeError:
            pass  # the caller had started TensorFlow already: keep its settings
    return tensorflow


tf = _start()
