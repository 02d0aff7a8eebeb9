"""A sweep's loop: plan the jobs into groups, train them on a backend, write each job.

Hydra-free: the launcher plugin composes the jobs and hands them here, with a callback
for what it does once a job's files are written.
"""

import importlib
import logging
import threading
from collections import deque
from typing import Callable

from sweeper.sweep.backends import Backend
from sweeper.sweep.jobs import Job, is_done, write
from sweeper.sweep.plan import plan, seconds
from sweeper.sweep.progress import Progress

log = logging.getLogger(__name__)
REPORT = "sweeper.report.build"  # what the report imports once training ends


def run(
    jobs: list[Job],
    backend: Backend,
    workers: int,
    group_memory_mb: float,
    written: Callable[[int], None],
) -> None:
    """Train every job that is not done yet and write its files as its group ends.

    `workers` is how many groups `backend` trains at once; `written(index)` is called
    for each job so written, in this process, while other groups still train.
    """
    todo = [i for i, job in enumerate(jobs) if not is_done(job)]
    cfgs = [jobs[i].cfg for i in todo]
    groups = plan(cfgs, group_memory_mb, workers)
    log.info(
        f"Training {len(todo)} of {len(jobs)} jobs in {len(groups)} groups on "
        f"{min(workers, len(groups))} workers"
    )
    costs = [seconds([cfgs[i] for i in group]) for group in groups]
    progress = Progress(costs, [len(g) for g in groups], done=len(jobs) - len(todo))

    # A group's jobs are written one at a time while no worker has news (Hydra's
    # bookkeeping of a job is tens of ms, of a group seconds): a worker that ends its
    # group never waits for this process to write the one before.
    unwritten: deque = deque()  # (job index, outcome)

    def finished(group: int, outcomes: list) -> None:
        unwritten.extend(zip((todo[i] for i in groups[group]), outcomes))
        progress.finished_group(group)

    def write_one() -> bool:
        if not unwritten:
            return False
        index, outcome = unwritten.popleft()
        write(jobs[index], outcome)
        written(index)
        return True

    # The report's imports (pandas, matplotlib, seaborn) load while the workers train,
    # when this process would only wait for them.
    threading.Thread(
        target=importlib.import_module, args=(REPORT,), daemon=True
    ).start()
    try:
        backend.train(cfgs, groups, finished, progress.started, write_one)
    finally:  # trained is kept, also when the sweep is interrupted
        while write_one():
            pass
