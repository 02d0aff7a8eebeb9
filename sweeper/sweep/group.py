"""A group's training: the task a worker process (or a Ray task) runs.

Apart from jobs.py, which writes a job's files (pandas, the records, theory): a worker
imports this module when its first group arrives, so it loads only what training
needs (importing jobs.py there was ~0.9 s, after TensorFlow, before the first step).
"""

import traceback
from dataclasses import dataclass

from sweeper.config.schema import Config
from sweeper.contract import Measurements


@dataclass
class Outcome:
    """What training gave one run: its group's measurements and its row, or an error."""

    result: Measurements | None
    index: int = 0  # the run's position in the group
    size: int = 1  # runs in the group
    error: str | None = None  # traceback of the failure


def train_group(cfgs: list[Config]) -> list[Outcome]:
    """Train runs of one program key together; if that fails, retry each alone.

    The task a worker process (or a Ray worker) runs for a group.
    """
    from sweeper.train import lean

    engine = lean.engine()  # TensorFlow loads here, in the training process
    try:
        result = engine.train(cfgs)
    except Exception:
        if len(cfgs) == 1:
            return [Outcome(None, error=traceback.format_exc())]
        return [train_group([cfg])[0] for cfg in cfgs]
    return [Outcome(result, index, len(cfgs)) for index in range(len(cfgs))]
