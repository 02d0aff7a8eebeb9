"""The persistent compile cache: XLA's own, made safe to share between processes.

TensorFlow can keep compiled XLA programs in a folder (`--tf_xla_persistent_cache_
directory`), but not safely for a folder shared by processes: an entry that fails its
check fails the compile rather than being skipped, a new entry is written in place (a
second reader can see half of it), and a folder it cannot write fails the compile
too. So every process that trains gets a private folder of its own, which TensorFlow
reads and writes alone: it is seeded with hard links to the entries of the shared
folder that parse as whole entries whose key matches their name, and after each group
the entries TensorFlow added are checked and published into the shared folder by a
rename, which no reader sees half done. The shared folder's name holds TensorFlow's
version and a fingerprint of the XLA flags and the CPU, so another version or flag
never reads an entry; it is pruned to `SWEEPER_CACHE_MB` (oldest first).

No TensorFlow here: `enable` must run before TensorFlow reads its flags, which it does
at its first compile, not at its import: it runs as each training process starts
TensorFlow (train/_tf.py), so that workers forked from a process that imported it
(sweep/pool.py) each get a folder of their own.
"""

import atexit
import hashlib
import importlib.metadata
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sweeper.train import cache_entry

SWITCH = "SWEEPER_COMPILE_CACHE"  # "off" (or 0, false, no) turns the cache off
FOLDER = "SWEEPER_CACHE_DIR"  # default: $XDG_CACHE_HOME/sweeper or ~/.cache/sweeper
LIMIT = "SWEEPER_CACHE_MB"  # the shared folder's size bound, default DEFAULT_MB
DEFAULT_MB = 2048
FLAG = "--tf_xla_persistent_cache_directory"
PRIVATE = ".proc-"  # private folders: .proc-<pid>-<random>, inside the shared one
OWNED = "SWEEPER_CACHE_PRIVATE"  # the private folder this process put in TF_XLA_FLAGS

# Once enabled: "pid" of the process it is for, "shared", "private", "known" (entry
# names seen).
_state: dict = {}


def root() -> Path:
    if os.environ.get(FOLDER):
        return Path(os.environ[FOLDER])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sweeper"


def _tensorflow_version() -> str:
    for name in ("tensorflow", "tensorflow-cpu", "tf-nightly"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown"


def _cpu() -> str:
    """The CPU's model and feature flags (what XLA's code generation reads)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    wanted = ("flags", "model name")
    lines = [line for line in text.splitlines() if line.startswith(wanted)]
    return "\n".join(sorted(set(lines)))


def shared_folder() -> Path:
    """The shared folder of this TensorFlow, these XLA flags and this CPU."""
    flags = os.environ.get("TF_XLA_FLAGS", "")
    parts = [os.environ.get("XLA_FLAGS", ""), flags, platform.machine(), _cpu()]
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    return root() / f"xla-{_tensorflow_version()}-{digest}"


def enable() -> Path | None:
    """Give this process its private cache folder, seeded from the shared one; None
    when the cache is off or the user set XLA's cache folder themselves.

    A process forked from one that enabled it gets a folder of its own (two processes
    must never share one)."""
    if _state.get("pid") == os.getpid():
        return _state["private"]
    _state.clear()
    if os.environ.get(SWITCH, "").lower() in ("0", "off", "false", "no"):
        return None
    _forget_inherited()
    if FLAG in os.environ.get("TF_XLA_FLAGS", ""):
        return None  # the user's own cache folder: theirs to manage
    try:
        shared = shared_folder()
        shared.mkdir(parents=True, exist_ok=True, mode=0o700)
        _remove_stale(shared)
        private = Path(tempfile.mkdtemp(prefix=f"{PRIVATE}{os.getpid()}-", dir=shared))
        known = set()
        for entry in sorted(shared.glob("*.pb")):
            if _sound(entry, warn=True):  # else TensorFlow compiles it and replaces it
                _link(entry, private / entry.name)
                known.add(entry.name)
                os.utime(entry)  # recently used: pruned last
    except OSError as exc:
        _warn(f"the compile cache is off for this process: {exc}")
        return None
    flags = os.environ.get("TF_XLA_FLAGS", "")
    os.environ["TF_XLA_FLAGS"] = f"{flags} {FLAG}={private}".strip()
    os.environ[OWNED] = str(private)
    _state.update(pid=os.getpid(), shared=shared, private=private, known=known)
    atexit.register(close)
    return private


def active() -> bool:
    """Whether this process has its cache folder (`enable` gave it one)."""
    return _state.get("pid") == os.getpid()


def _forget_inherited() -> None:
    """A child of a process that enabled the cache inherits its TF_XLA_FLAGS: take
    the parent's private folder out of them (the child gets its own)."""
    owned = os.environ.pop(OWNED, None)
    if owned:
        token = f"{FLAG}={owned}"
        flags = os.environ.get("TF_XLA_FLAGS", "").split()
        os.environ["TF_XLA_FLAGS"] = " ".join(f for f in flags if f != token)


def publish() -> int:
    """Check the entries TensorFlow added to this process's folder and publish the
    sound ones into the shared folder; return how many were new (compiled here)."""
    if not active():
        return 0
    shared, private, known = _state["shared"], _state["private"], _state["known"]
    added = 0
    for entry in sorted(private.glob("*.pb")):
        if entry.name in known:
            continue
        known.add(entry.name)
        added += 1
        if not _sound(entry, warn=True):
            continue
        staged = shared / f".{entry.name}.{os.getpid()}.tmp"
        try:
            _link(entry, staged)
            os.replace(staged, shared / entry.name)  # whole, or not at all
            # a rename onto a link to the same file does nothing, and leaves `staged`
            staged.unlink(missing_ok=True)
        except OSError as exc:
            _warn(f"cannot publish a compiled program to {shared}: {exc}")
    if added:
        prune(shared)
    return added


def close() -> None:
    """Publish what is left and remove this process's folder."""
    if active():
        publish()
        shutil.rmtree(_state["private"], ignore_errors=True)
        _state.clear()


def distrust(reason: str) -> None:
    """TensorFlow refused an entry it was given (its HLO is not the program's): empty
    this process's folder, and the shared entries it was seeded with, never to be
    read again; the caller retraces."""
    if not active():
        return
    _warn(f"a compile cache entry did not match its program ({reason}); removed")
    _state["known"].clear()  # what TensorFlow writes anew is published anew
    for entry in _state["private"].glob("*.pb"):
        for path in (entry, _state["shared"] / entry.name):
            try:
                path.unlink()
            except FileNotFoundError:
                pass


def is_cache_error(exc: Exception) -> bool:
    """Whether TensorFlow failed a compile over a cache entry (VerifyLoadedCacheEntry's
    messages)."""
    text = str(exc)
    return any(
        words in text
        for words in (
            "Serialized cache key does not match",
            "Serialized HLO does not match",
            "No binary found in serialized entry",
        )
    )


def prune(shared: Path) -> None:
    """Delete the oldest entries until the folder holds at most SWEEPER_CACHE_MB
    (another process's hard link keeps its copy readable)."""
    limit = float(os.environ.get(LIMIT) or DEFAULT_MB) * 2**20
    entries = []
    for entry in shared.glob("*.pb"):
        try:
            info = entry.stat()
        except FileNotFoundError:
            continue
        entries.append((info.st_mtime, info.st_size, entry))
    total = sum(size for _, size, _ in entries)
    for _, size, entry in sorted(entries, key=lambda e: e[0]):
        if total <= limit:
            break
        try:
            entry.unlink()
        except FileNotFoundError:
            pass
        total -= size


def _remove_stale(shared: Path, age: float = 60.0) -> None:
    """Private folders and staged entries (`publish`) of processes that are gone
    (killed before `close`, or in the middle of a publish)."""
    folders = [(path, path.name.split("-")[1]) for path in shared.glob(f"{PRIVATE}*")]
    staged = [(path, path.name.split(".")[-2]) for path in shared.glob(".*.pb.*.tmp")]
    for path, pid in folders + staged:
        try:
            young = time.time() - path.lstat().st_mtime < age
            if young or (pid.isdigit() and _alive(int(pid))):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
        except FileNotFoundError:
            continue


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: a copy
        shutil.copyfile(source, target, follow_symlinks=False)


def _warn(message: str) -> None:
    print(f"sweeper: WARNING: {message}", file=sys.stderr)


def _sound(entry: Path, warn: bool = False) -> bool:
    """Whether a file is a whole XlaSerializedCacheEntry whose key matches its name
    and which holds an HLO module and an executable."""
    problem = None
    try:
        if entry.is_symlink() or not entry.is_file():
            problem = "not a regular file"
        else:
            with open(entry, "rb") as handle:
                problem = cache_entry.problem(entry.name, handle, entry.stat().st_size)
    except OSError as exc:
        problem = str(exc)
    if problem and warn:
        _warn(f"compile cache entry {entry} ignored: {problem}")
    return problem is None
