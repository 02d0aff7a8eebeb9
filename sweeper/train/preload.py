"""Imported by the fork server the sweep's workers are forked from (sweep/pool.py):
TensorFlow, lean (train/lean.py), loaded but not started, so that each worker begins
with the import done instead of paying it again.

Nothing here may start a thread: a fork copies only the thread that forks, and a lock
another thread held stays held in the child. TensorFlow starts its threads with its
devices, which each worker does itself (train/_tf.py, on the engine's import); the one
thread numpy's OpenBLAS starts at import is stopped across a fork by OpenBLAS' own
fork handler.
"""

from sweeper.train import lean

try:
    lean.load()
except Exception:  # a server that fails here forks no worker: the sweep would stop
    pass  # each worker imports TensorFlow again, and its group fails with the error
