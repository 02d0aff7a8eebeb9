"""One sweep at a time in a folder: an advisory lock that dies with its process.

`flock` locks belong to the open file, so the kernel drops one when the process that
holds it ends, killed or not: a killed sweep never leaves its folder locked.
"""

import errno
import fcntl
import os
from pathlib import Path

LOCK_FILE = ".sweeper.lock"
_HELD: dict = {}  # folder -> file descriptor, kept open for the life of the process


class FolderInUse(RuntimeError):
    """Another live sweep holds the folder."""


def hold(folder: Path) -> None:
    """Lock `folder` (made if missing) for this process, or raise FolderInUse."""
    folder = Path(folder).absolute()
    if folder in _HELD:
        return
    folder.mkdir(parents=True, exist_ok=True)
    # O_NOFOLLOW: a lock file that is a link is refused, never written through
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW
    fd = os.open(folder / LOCK_FILE, flags, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            os.close(fd)
            raise
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise FolderInUse(
            f"The sweep folder {str(folder)!r} is in use by another sweep (process "
            f"{holder}): wait for it to end, or choose another hydra.sweep.dir."
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    _HELD[folder] = fd


def release(folder: Path) -> None:
    """Unlock `folder`, if this process holds it."""
    fd = _HELD.pop(Path(folder).absolute(), None)
    if fd is not None:
        os.close(fd)
