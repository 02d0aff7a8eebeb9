"""Worker processes that train groups; one that dies fails only the group it held.

concurrent.futures' process pool breaks as a whole when one worker dies (every pending
future fails), which would turn one killed worker into a lost sweep. Here the parent
hands each worker one group at a time over its own pipe, so it always knows which group
a dead worker held: it records that group as failed and starts a replacement.
"""

import traceback
from multiprocessing import get_context
from multiprocessing.connection import wait


def run(task, items: list, workers: int, finished, failed) -> None:
    """Call `task(item)` for every item on up to `workers` spawned processes.

    `finished(index, result)` or `failed(index, message)` is called in this process as
    each item ends, in completion order. A worker serves items until none are left.
    """
    # spawn, not fork: a forked child of a process that loaded TensorFlow can hang.
    context = get_context("spawn")
    todo = list(range(len(items)))[::-1]
    busy: dict = {}  # connection -> [process, index of the item it holds]

    def give(conn) -> None:
        index = todo.pop()
        busy[conn][1] = index
        try:
            conn.send(items[index])
        except OSError:
            pass  # the worker is gone: its sentinel reports it, with this item

    def start() -> None:
        conn, child = context.Pipe()
        process = context.Process(target=_serve, args=(task, child), daemon=True)
        process.start()
        child.close()
        busy[conn] = [process, None]
        give(conn)

    while todo or busy:
        while todo and len(busy) < workers:
            start()
        sentinels = {process.sentinel: conn for conn, (process, _) in busy.items()}
        for ready in wait([*busy, *sentinels]):
            conn = sentinels.get(ready, ready)
            if conn not in busy:
                continue  # its pipe and its sentinel were both ready: handled once
            process, index = busy[conn]
            try:
                ok, payload = conn.recv()
            except (EOFError, OSError):  # the worker died holding this item
                process.join()
                del busy[conn]
                conn.close()
                failed(index, f"worker process died (exit code {process.exitcode})")
                continue
            (finished if ok else failed)(index, payload)
            if todo:
                give(conn)
            else:
                conn.send(None)
                conn.close()
                process.join()
                del busy[conn]


def _serve(task, conn) -> None:
    """Worker side: run items as they come, send back (ok, result or traceback)."""
    while (item := conn.recv()) is not None:
        try:
            conn.send((True, task(item)))
        except Exception:
            conn.send((False, traceback.format_exc()))
