"""Worker processes that train groups; one that dies fails only the group it held.

concurrent.futures' process pool breaks as a whole when one worker dies (every pending
future fails), which would turn one killed worker into a lost sweep. Here the parent
hands each worker one item at a time over its own pipe, so it always knows which item
a dead worker held: it records that item as failed and starts a replacement.

Workers call `warm` (importing TensorFlow) as they start, and `done` before they exit
(without Python's teardown, slow with TensorFlow loaded). The import overlaps
whatever the parent does before it has work to hand out. Given a `preload` module, a
pool forks its workers from a server process (multiprocessing's fork server) that
imports it once, while the parent goes on: TensorFlow's import is then paid once, not
once per worker on cores the parent's own start-up needs too (NOTES.md). Without (and
off Linux), each worker is spawned as the pool is made and imports it itself.
"""

import ctypes
import os
import signal
import sys
import traceback
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.connection import wait
from typing import Callable


# Linux only: on macOS a fork after numpy (Accelerate) or TensorFlow loaded Apple's
# frameworks is unsafe (they refuse or crash in the child).
_FORK_SERVER = sys.platform == "linux" and "forkserver" in get_all_start_methods()


class Pool:
    """Up to `workers` processes; `run` hands them items, `close` ends them."""

    def __init__(
        self,
        workers: int,
        warm: Callable | None = None,
        preload: str | None = None,
        done: Callable | None = None,
    ):
        self.workers = workers
        self._warm, self._done = warm, done
        self.preload = preload if _FORK_SERVER else None
        self._idle: list = []  # (connection, process) of started, unused workers
        self._busy: dict = {}  # connection -> [process, index] of those at work
        if self.preload:
            # Workers start when `run` first needs them: starting one waits for the
            # server's import, which runs while the parent gets there.
            self._context = get_context("forkserver")
            _start_server(self._context, self.preload)
        else:
            # spawn, not fork: a forked child of a process that started TensorFlow
            # (its threads) can hang.
            self._context = get_context("spawn")
            for _ in range(workers):
                self._idle.append(self._start())

    def _start(self):
        conn, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(child, self._warm, self._done, os.getpid()),
            daemon=True,
        )
        # A Ctrl-C at the terminal reaches every process of its group: the parent
        # handles it and ends its workers, which must not print tracebacks of their
        # own. A child started while SIGINT is ignored keeps ignoring it (Python
        # installs its handler only over the default).
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            process.start()
        finally:
            signal.signal(signal.SIGINT, previous)
        child.close()
        return conn, process

    def run(
        self, task, items: list, finished, failed, started=None, between=None
    ) -> None:
        """Call `task(item)` for every item on the pool's processes.

        `finished(index, result)` or `failed(index, message)` is called in this process
        as each item ends, in completion order, and `started(index)` as a worker takes
        one. A worker that dies is replaced. `between()` is one small piece of the
        caller's own work, done while no worker has news; it returns whether it found
        any: so a worker that ends an item gets the next at once, however much the
        caller has to do with the results.
        """
        todo = list(range(len(items)))[::-1]
        busy = self._busy  # connection -> [process, index of the item it holds]

        def give(conn) -> None:
            index = todo.pop()
            busy[conn][1] = index
            try:
                conn.send((task, items[index]))
            except OSError:
                pass  # the worker is gone: its sentinel reports it, with this item
            if started is not None:
                started(index)

        while todo or busy:
            while todo and len(busy) < self.workers:
                conn, process = self._idle.pop() if self._idle else self._start()
                busy[conn] = [process, None]
                give(conn)
            sentinels = {process.sentinel: conn for conn, (process, _) in busy.items()}
            news = wait([*busy, *sentinels], timeout=0) if between else []
            if not news and not (between and between()):
                news = wait([*busy, *sentinels])
            for ready in news:
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
                # The worker gets its next item before this process handles the
                # result (writing a group's files): it never waits for that.
                if todo:
                    give(conn)
                else:
                    del busy[conn]
                    self._idle.append((conn, process))
                (finished if ok else failed)(index, payload)

    def close(self) -> None:
        """End every worker: idle ones when they have read their stop, busy ones (left
        by an interrupted `run`) at once."""
        for conn, (process, _) in self._busy.items():
            process.terminate()
            process.join()
            conn.close()
        self._busy = {}
        for conn, process in self._idle:
            try:
                conn.send(None)
            except OSError:
                pass  # already gone
            conn.close()
        for _, process in self._idle:
            process.join()
        self._idle = []


_early: list = []  # a pool started before the launcher was known (cli/early.py)


def start_early(workers: int, *setup) -> None:
    """Start a pool now (`setup`: Pool's warm, preload, done), for a launcher to
    `take_early` later."""
    if not _early:
        _early.append(Pool(workers, *setup))


def take_early(workers: int, warm: Callable) -> Pool | None:
    """The pool `start_early` started, if it has these workers and this warm-up; one
    that is not taken ends with the command (`close_early`)."""
    if _early and _early[0].workers == workers and _early[0]._warm is warm:
        return _early.pop()
    return None


def _start_server(context, preload: str) -> None:
    """Start the fork server, importing `preload`, unless it runs already.

    It ignores Ctrl-C (as the workers do, see `_start`) and learns which process to die
    with from the environment it starts with (`serve_forks`)."""
    from multiprocessing import forkserver

    context.set_forkserver_preload(["sweeper.sweep.fork_server", preload])
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ[_PARENT] = str(os.getpid())
    try:
        forkserver.ensure_running()
    finally:
        del os.environ[_PARENT]
        signal.signal(signal.SIGINT, previous)


_PARENT = "SWEEPER_FORK_SERVER_PARENT"
_server: int | None = None  # in the fork server and the workers forked from it: its pid


def serve_forks() -> None:
    """In the fork server (sweep/fork_server.py): end with the process that started
    it; the workers it forks end with the server (`_serve`)."""
    global _server
    _server = os.getpid()
    die_with_parent(int(os.environ.pop(_PARENT, os.getppid())))


def close_early() -> None:
    while _early:
        _early.pop().close()


def die_with_parent(parent: int) -> None:
    """End this process when `parent` ends, even by SIGKILL (Linux's parent-death
    signal): a worker must not train on, or hold the sweep's lock, for no one."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return  # not Linux: the daemon flag still ends workers at a normal exit
    if os.getppid() != parent:  # it died before the signal was set up
        os._exit(1)


PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
# Workers yield to the parent: what they wait for (their next item, the report) is
# the parent's work, which shares the cores with them while they start and train.
NICE = 5


def _serve(conn, warm: Callable | None, done: Callable | None, parent: int) -> None:
    """Worker side: run (task, item) pairs as they come, send back (ok, result)."""
    die_with_parent(_server or parent)  # a forked worker's parent is the server
    os.nice(NICE)
    if warm:
        warm()
    while (message := conn.recv()) is not None:
        task, item = message
        try:
            conn.send((True, task(item)))
        except Exception:
            conn.send((False, traceback.format_exc()))
    conn.close()
    if done:
        done()
    # Every result is sent: skip the interpreter's teardown, which is slow with
    # TensorFlow loaded, while the parent waits.
    os._exit(0)


def end_helpers() -> None:
    """Stop multiprocessing's fork server and resource tracker, which workers start.

    Left alone each ends only once this process has exited and closed its pipe, so for
    a moment after the command returns a process of the sweep is still there (and a
    zombie until init reaps it). Their own `_stop` closes the pipe and waits for it.
    The fork server is killed first: it would end through the interpreter's teardown,
    slow with TensorFlow loaded, and it holds the tracker's pipe too.
    """
    from multiprocessing import forkserver, resource_tracker

    server = getattr(forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if pid is not None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for helper in (server, getattr(resource_tracker, "_resource_tracker", None)):
        stop = getattr(helper, "_stop", None)
        if stop is not None:
            stop()
