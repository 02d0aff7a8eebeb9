"""The persistent compile cache (sweeper/train/compile_cache.py): entries are checked
before they are read, the folder stays bounded, and a repeated sweep compiles nothing
and writes the same bytes as one without the cache."""

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sweeper.train import cache_entry, compile_cache


def _varint(value: int) -> bytes:
    out = b""
    while True:
        byte, value = value & 0x7F, value >> 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def _field(number: int, payload) -> bytes:
    """One protocol buffer field: a varint for an int, length-delimited for bytes."""
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


SIGNATURE, CLUSTER = 13480813908807058931, 17979667085750587758  # 64-bit, as TF's
KEY = _field(1, SIGNATURE) + _field(2, CLUSTER) + _field(3, b"XLA_CPU_JIT")
ENTRY = _field(1, KEY) + _field(2, b"\x0a\x03hlo") + _field(3, b"\x7fELF...")
NAME = f"xla_compile_cache__{SIGNATURE}__{CLUSTER}__XLA_CPU_JIT.pb"


@pytest.mark.parametrize(
    "name, data, problem",
    [
        (NAME, ENTRY, None),
        (NAME, ENTRY[:-1], "not a whole protocol buffer"),
        (NAME.replace(str(CLUSTER), "1"), ENTRY, "its key names another entry"),
        (NAME, _field(1, KEY) + _field(2, b"hlo"), "no key, HLO module or executable"),
        (NAME, b"\xff" * 40, "not a whole protocol buffer"),
        (NAME, b"", "no key, HLO module or executable"),
    ],
    ids=["sound", "truncated", "renamed", "no-executable", "garbage", "empty"],
)
def test_an_entry_is_read_only_when_whole_and_named_by_its_key(name, data, problem):
    found = cache_entry.entry_problem(name, data)
    assert (found is None) if problem is None else problem in found


def test_the_shared_folder_keeps_to_its_bound_newest_first(tmp_path, monkeypatch):
    monkeypatch.setenv(compile_cache.LIMIT, str(3 * 1000 / 2**20))  # 3,000 bytes
    now = time.time()
    for age in range(5):  # five entries of 1,000 bytes, entry-4 the oldest
        entry = tmp_path / f"entry-{age}.pb"
        entry.write_bytes(b"x" * 1000)
        os.utime(entry, (now - age * 60, now - age * 60))
    compile_cache.prune(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.pb")) == [
        "entry-0.pb",
        "entry-1.pb",
        "entry-2.pb",
    ]


def test_folders_of_processes_that_are_gone_are_removed(tmp_path):
    gone = tmp_path / f"{compile_cache.PRIVATE}{2**22 + 12345}-abc"  # no such pid
    mine = tmp_path / f"{compile_cache.PRIVATE}{os.getpid()}-abc"
    for folder in (gone, mine):
        folder.mkdir()
        (folder / "x.pb").write_bytes(b"x")
    # entries staged for publishing (`publish`), left by a process killed meanwhile
    staged_gone = tmp_path / f".{NAME}.{2**22 + 12345}.tmp"
    staged_mine = tmp_path / f".{NAME}.{os.getpid()}.tmp"
    for path in (gone, mine, staged_gone, staged_mine):
        if not path.exists():
            path.write_bytes(b"x")
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    compile_cache._remove_stale(tmp_path)
    assert not gone.exists() and mine.exists()
    assert not staged_gone.exists() and staged_mine.exists()


def _sweep(folder, cache, *extra, cache_on: bool = True):
    env = {**os.environ, compile_cache.FOLDER: str(cache)}
    env[compile_cache.SWITCH] = "on" if cache_on else "off"
    grid = ["init=normal,xavier", "depth=2,3", "steps=200", "log_every=50"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sweeper",
            "-m",
            *grid,
            *extra,
            f"hydra.sweep.dir={folder}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    compiled = [
        json.loads((folder / str(job) / "run.json").read_text())["timings"]["compiled"]
        for job in range(4)
    ]
    metrics = [(folder / str(job) / "metrics.csv").read_bytes() for job in range(4)]
    return compiled, metrics, done.stderr


@pytest.mark.slow
def test_a_repeated_sweep_compiles_nothing_and_a_bad_entry_is_ignored(tmp_path):
    cache = tmp_path / "cache"
    off, plain, _ = _sweep(tmp_path / "off", cache, cache_on=False)
    assert off == [None] * 4 and not cache.exists()  # off: no folder, nothing recorded
    cold, first, _ = _sweep(tmp_path / "cold", cache)
    assert cold == [1] * 4  # each run's group (one per depth) compiled its program
    warm, second, _ = _sweep(tmp_path / "warm", cache)
    assert warm == [0] * 4  # every program loaded from the cache
    assert first == second == plain  # the same bytes with the cache, or without
    [shared] = cache.iterdir()
    entries = sorted(shared.glob("*.pb"))
    assert len(entries) == 2
    # every process's own folder removed as it ended (workers skip Python's exit)
    assert [p.name for p in shared.iterdir() if p.suffix != ".pb"] == []
    entries[0].write_bytes(entries[0].read_bytes()[:-10])  # truncated
    (shared / NAME).write_bytes(b"not a compiled program")  # foreign
    again, third, stderr = _sweep(tmp_path / "again", cache)
    assert "compile cache entry" in stderr and "ignored" in stderr
    assert sorted(again) == [0, 0, 1, 1]  # the truncated one's group compiled anew
    assert third == plain


def _swap_programs(keep_key: Path, take_program: Path) -> None:
    """Give `keep_key`'s entry the HLO and executable of `take_program`'s, under its
    own key: a file every check before TensorFlow's own finds sound."""
    from sweeper.train.cache_entry import (
        _fields,
    )  # scaffolding: the parse is tested above

    def read(path):
        data = path.read_bytes()
        fields = _fields(io.BytesIO(data), len(data), keep=(1, 2, 3))
        return fields

    key, program = read(keep_key), read(take_program)
    keep_key.write_bytes(
        _field(1, key[1]) + _field(2, program[2]) + _field(3, program[3])
    )


@pytest.mark.slow
def test_an_entry_whose_program_is_another_is_refused_and_removed(tmp_path):
    cache = tmp_path / "cache"
    _, plain, _ = _sweep(tmp_path / "cold", cache)
    [shared] = cache.iterdir()
    first, second = sorted(shared.glob("*.pb"))
    _swap_programs(first, second)
    assert cache_entry.entry_problem(first.name, first.read_bytes()) is None
    compiled, metrics, stderr = _sweep(tmp_path / "swapped", cache)
    assert "did not match its program" in stderr, stderr[-2000:]
    assert metrics == plain  # never the other program's numbers


def test_a_child_process_gets_a_folder_of_its_own(tmp_path):
    """A sweep started from a process that enabled the cache (a test session, a
    notebook) inherits its TF_XLA_FLAGS; it must not write its parent's folder."""
    code = (
        "import os; from sweeper.train import compile_cache as c; "
        "print(c.enable()); print(os.environ['TF_XLA_FLAGS'])"
    )
    env = {**os.environ, compile_cache.FOLDER: str(tmp_path)}
    env.pop(compile_cache.SWITCH, None)
    parent = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    ).stdout.split()
    env["TF_XLA_FLAGS"] = parent[1]
    env[compile_cache.OWNED] = parent[0]
    child = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    ).stdout.split()
    assert child[0] != parent[0] and Path(child[0]).parent == Path(parent[0]).parent
    assert child[1:] == [f"{compile_cache.FLAG}={child[0]}"]
