"""The data-set tasks: scikit-learn's built-in sets and the user's own file.

`task=digits|breast_cancer|wine` load a set that ships inside scikit-learn's wheel;
`task=file` reads `task.path` (sweeper.data checks it). Features are standardized on
the training split, the probe is the held-out split.
"""

import functools
import os

from sweeper.config.schema import TaskConfig
from sweeper.train.supervised import PoolTask

TEST_FRACTION, SPLIT_SEED = 0.25, 0


def _split(cfg: TaskConfig) -> tuple:
    fraction = TEST_FRACTION if cfg.test_fraction is None else cfg.test_fraction
    return fraction, SPLIT_SEED if cfg.split_seed is None else cfg.split_seed


# sweeper.data loads scikit-learn (over a second): only when a data set is asked for.
@functools.cache
def _builtin(name: str, fraction: float, seed: int):
    from sweeper.data import load_builtin

    return load_builtin(name, fraction, seed)


@functools.cache
def _file(path, target, kind, fraction, seed, batch_size, stamp):
    from sweeper.data import load_file

    del stamp  # part of the cache key: a changed file is read again
    return load_file(path, target, kind, fraction, seed, batch_size)


def dataset(cfg: TaskConfig):
    """The task's Dataset (cached per process); ConfigError for a bad file."""
    fraction, seed = _split(cfg)
    if cfg.name != "file":
        return _builtin(cfg.name, fraction, seed)
    path = os.path.abspath(cfg.path)
    try:
        info = os.stat(path)
        stamp = (info.st_mtime_ns, info.st_size)
    except OSError:
        stamp = None  # load_file says what is wrong with it
    return _file(path, cfg.target, cfg.kind, fraction, seed, cfg.batch_size, stamp)


def table_task(cfg: TaskConfig) -> PoolTask:
    data = dataset(cfg)
    arrays = (data.x_train, data.y_train, data.x_test, data.y_test, data.kind)
    key = (data.name, cfg.path, cfg.target, cfg.kind, *_split(cfg))
    return PoolTask(cfg.name, key, arrays, cfg.batch_size, data.output_dim)
