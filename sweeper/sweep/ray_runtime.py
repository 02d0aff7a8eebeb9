"""Joining Ray safely: a local runtime reachable from this machine only, with
authentication on and its token readable by its owner only; a cluster by address.

A Ray runtime runs whatever code reaches it, so who can reach it matters.
"""

import os
import secrets
import socket
import stat
import sys
from pathlib import Path
from typing import Optional

from sweeper.config.checks import stop

AUTH_MODE = "RAY_AUTH_MODE"
# Ray's own switch, read when `ray` is imported: off, a node takes the loopback address
# and every server of the runtime listens on 127.0.0.1 only. On Linux Ray otherwise
# binds its servers to every interface, even for a runtime of one machine.
CLUSTER_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
TOKEN_SOURCES = ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")


def connect(
    address: Optional[str], num_cpus: Optional[int], runtime_env: Optional[dict] = None
):
    """The `ray` module, connected; a missing install or a failed join, in one line.

    `runtime_env`: the job's Ray runtime environment (a cluster's only)."""
    if address is None:
        _refuse_unauthenticated()
        os.environ[CLUSTER_SWITCH] = "0"  # before the import, and for Ray's children
    try:
        import ray
    except ImportError:
        stop(
            "hydra/launcher=ray needs Ray, which is not installed: "
            "pip install -e '.[ray]'"
        )
    if address is None:
        _loopback_only()
        token = _private_token()
        # "local", not None: None would join a cluster that `ray start` left running.
        ray.init(address="local", num_cpus=num_cpus)
        _owner_only(token)
        return ray
    if num_cpus is not None:
        stop(
            "The value for `hydra.launcher.num_cpus` must be left unset with "
            f"`hydra.launcher.address` (the cluster has its CPUs), but {num_cpus} "
            "was passed."
        )
    if os.environ.get(AUTH_MODE, "").lower() == "disabled":
        print(
            f"sweeper: WARNING: {AUTH_MODE}=disabled: this driver joins {address} "
            "without authentication; anyone who can reach that cluster can run code "
            "on it",
            file=sys.stderr,
        )
    _check_listening(address)
    try:
        ray.init(address=address, runtime_env=runtime_env)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        stop(f"Cannot join the Ray cluster at {address!r}: {_first_line(exc)}")
    return ray


def _refuse_unauthenticated() -> None:
    if os.environ.get(AUTH_MODE, "").lower() == "disabled":
        stop(
            f"{AUTH_MODE}=disabled is refused for a local Ray runtime: without "
            "authentication any process that reaches its ports runs code as you; "
            f"unset {AUTH_MODE} (sweeper's local runtime then uses a token)"
        )


def _loopback_only() -> None:
    """Where `ray` was imported before the switch was set, set what it read."""
    from ray._private import ray_constants  # Ray's own module; checked by a test

    ray_constants.ENABLE_RAY_CLUSTER = False


def _private_token() -> Optional[Path]:
    """The token file a local runtime reads, created readable by its owner only.

    Ray writes `~/.ray/auth_token` with the umask's mode (world-readable by default)
    when it is missing; writing it first, 0600, leaves Ray nothing to create.
    Returns the file, or None when the token comes from the environment.
    """
    if any(os.environ.get(name) for name in TOKEN_SOURCES):
        return None
    path = Path.home() / ".ray" / "auth_token"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        _owner_only(path)
        return path
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))  # as Ray's own generator: 256 bits
    return path


def _owner_only(path: Optional[Path]) -> None:
    """Take group and other access off a token file of ours (not through a link)."""
    if path is None:
        return
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and mode & 0o077:
        os.chmod(path, mode & 0o700)


def _check_listening(address: str) -> None:
    """Stop at once if nothing listens at a host:port address.

    Ray itself retries such an address for many minutes.
    """
    host, _, port = address.rpartition("://")[2].rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", or a form only Ray knows how to resolve
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
    except OSError as exc:
        stop(f"Cannot join the Ray cluster at {address!r}: {exc.strerror or exc}.")


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
