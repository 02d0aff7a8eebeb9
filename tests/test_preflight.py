"""Bad command lines fail before training with one line: key, value and rule."""

import re
import subprocess
import sys
import time

import pytest

from sweeper.cli import preflight
from sweeper.config.checks import ConfigError

# preflight.check composes with Hydra in this process, which sets Hydra's global state
# (version base, job name); Hydra's own fixture puts it back after each test, so the
# launcher test suites that run in-process later see a fresh Hydra.
pytestmark = pytest.mark.usefixtures("hydra_restore_singletons")

BAD = [
    (["depth=abc"], r"`depth` must be an integer, but 'abc' was passed"),
    (["dept=3"], r"Unknown key `dept` \(value '3'\); allowed keys are \[.*'depth'.*\]"),
    (["init=xavir"], r"`init` must be one of \[.*'xavier'.*\], but 'xavir' was passed"),
    (["depth=0"], r"`depth` must be an integer >= 1, but 0 was passed"),
    (["clip.threshold=-1"], r"`clip.threshold` must be > 0, but -1.0 was passed"),
    (["optimizer.lr=-1"], r"`optimizer.lr` must be > 0, but -1.0 was passed"),
    (
        ["model.activation=relu6"],
        r"`model.activation` must be one of \[.*\], but 'relu6'",
    ),
    (
        ["model.widht=4"],
        r"Unknown key `model.widht` \(value '4'\); allowed keys in `model`",
    ),
    (["optimizer.lr=fast"], r"`optimizer.lr` must be a number, but 'fast' was passed"),
    (["init=xavier", "init.std=0.1"], r"`init.std` must be unset for init=xavier"),
    (
        ["optimizer=adam", "optimizer.beta_1=1.5"],
        r"`optimizer.beta_1` must be in \[0, 1\)",
    ),
    (["+foo=1"], r"Unknown key `foo`"),
    (["log_every=-5"], r"`log_every` must be an integer >= 0, but -5 was passed"),
    # numbers float32 cannot hold, or that are no number at all
    (["optimizer.lr=inf"], r"`optimizer.lr` must be a finite number that float32"),
    (["optimizer.lr=1e400"], r"`optimizer.lr` must be a finite .* but inf was"),
    (["optimizer.lr=1e-50"], r"`optimizer.lr` must be a finite .* but 1e-50 was"),
    (["init.std=inf"], r"`init.std` must be a finite number"),
    (["init.bias=nan"], r"`init.bias` must be a finite .* but nan was passed"),
    (["task.output_scale=nan"], r"`task.output_scale` must be a finite number"),
    (["optimizer.epsilon=inf"], r"`optimizer.epsilon` must be a finite number"),
    (["tensorboard=2"], r"`tensorboard` must be true or false, but '2' was passed"),
    # keys that a schema check of the composed config alone would not see
    (["+model.extra=1"], r"Unknown key `model.extra` \(value 1\); allowed keys in"),
    (["+init.foo=1"], r"Unknown key `init.foo`"),
    (["~model"], r"`model` must keep a value .* '~model' deletes it"),
    (["~depth"], r"`depth` must keep a value"),
    (["depth=2", "depth=4"], r"`depth` must be given once, but 'depth=2' and 'dep"),
    # sizes this machine cannot hold or would take days over: the planner's estimate
    (["model.width=1000000000"], r"\(model.width=1000000000\) needs about [\d,.]+ GiB"),
    (["task.batch_size=100000000"], r"needs about [\d,.]+ GiB, more than this mach"),
    (["steps=1000000000000"], r"\(steps=1000000000000\) needs about [\d,.]+ GiB"),
    (["depth=100000"], r"\(depth=100000\) would take about [\d,.]+ hours"),
    (["model.width=1000000"], r"GiB of memory: make it smaller, e.g. model.width=\d+"),
    (["depth=100000"], r"more than max_hours=12: make it smaller \(e.g. depth=\d+\)"),
    (["max_hours=0"], r"`max_hours` must be a number of hours > 0, but 0.0"),
    # an unset environment variable is not a type error
    (
        ["depth=${oc.env:SWEEPER_TEST_UNSET}"],
        r"`depth` must resolve, but '\$\{oc.env:SWEEPER_TEST_UNSET\}' was passed "
        r"\(environment variable 'SWEEPER_TEST_UNSET' not found\)",
    ),
    (["++depth=abc"], r"`depth` must be an integer, but 'abc' was passed"),
    # Hydra's own settings, one line each
    (["hydra/launcher=nowhere"], r"`hydra/launcher` must be one of \['basic', 'b"),
    (["hydra/sweeper=nowhere"], r"`hydra/sweeper` must be one of"),
    (["hydra.launcher.workers=-1"], r"`hydra.launcher.workers` must be an integer >="),
    (["hydra.launcher.workers=abc"], r"`hydra.launcher.workers` must be an integer, "),
    (["hydra.launcher.group_memory_mb=-5"], r"`hydra.launcher.group_memory_mb` must"),
    (["hydra.launcher.group_memory_mb=nan"], r"`hydra.launcher.group_memory_mb` must"),
    (
        ["hydra/launcher=ray", "hydra.launcher.num_cpus=0"],
        r"`hydra.launcher.num_cpus` must be an integer >= 1 or null, but 0",
    ),
]


def test_the_default_grid_is_for_a_bare_multirun_only():
    assert preflight.check([], multirun=True) == preflight.DEFAULT_GRID
    assert preflight.check(["optimizer=adam"], multirun=True) == ["optimizer=adam"]
    # Hydra's own settings say where and how, not what: the grid still applies
    where = ["hydra.sweep.dir=/tmp/x", "hydra/launcher=basic"]
    assert preflight.check(where, multirun=True) == [*where, *preflight.DEFAULT_GRID]
    assert preflight.check([], multirun=False) == []


def test_sweep_functions_are_expanded_or_refused_in_one_line():
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    with initialize_config_module(preflight.CONF_MODULE, version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        lists = preflight.grid(["init=glob(*)", "depth=range(2,5)"], True, loader)
    inits = {o for lst in lists for o in lst if o.startswith("init=")}
    assert inits == {f"init={p.stem}" for p in preflight_conf("init")}
    assert {o for lst in lists for o in lst if o.startswith("depth=")} == {
        "depth=2",
        "depth=3",
        "depth=4",
    }
    preflight.check(["init=choice(normal,xavier)", "init.bias=0.1"], multirun=True)
    with pytest.raises(ConfigError, match=r"`init` must be one of .*'xavir' was"):
        preflight.check(["init=choice(normal,xavir)"], multirun=True)
    with pytest.raises(ConfigError, match=r"sweep for `optimizer.lr` must be a list"):
        preflight.check(["optimizer.lr=interval(1e-4,1e-1)"], multirun=True)
    with pytest.raises(ConfigError, match=r"sweep for `init` must list at least one"):
        preflight.check(["init=glob(nothing*)"], multirun=True)


def test_a_sweep_in_yaml_is_checked_like_the_command_line(tmp_path):
    (tmp_path / "experiment.yaml").write_text(
        "defaults:\n  - config\n  - _self_\n"
        "hydra:\n  sweeper:\n    params:\n      init: normal,xavir\n"
    )
    with pytest.raises(ConfigError, match=r"`init` must be one of .*'xavir' was"):
        preflight.check([], True, str(tmp_path), "experiment")
    # the command line wins for a key in both, as in Hydra's basic sweeper
    kept = preflight.check(["init=xavier"], True, str(tmp_path), "experiment")
    assert kept == ["init=xavier"]
    (tmp_path / "experiment.yaml").write_text(
        "defaults:\n  - config\n  - _self_\n"
        "hydra:\n  sweeper:\n    params:\n      optimizer: sgd,adam\n"
    )
    assert preflight.check([], True, str(tmp_path), "experiment") == []  # no grid


def preflight_conf(group: str) -> list:
    from pathlib import Path

    return sorted((Path(__file__).parents[1] / "conf" / group).glob("*.yaml"))


@pytest.mark.parametrize("overrides, message", BAD)
def test_bad_values_raise_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message) as info:
        preflight.check(overrides, multirun=False)
    assert "\n" not in str(info.value)


def test_a_size_refusal_names_an_override_that_passes():
    for too_big in (["model.width=1000000"], ["steps=1000000000000"]):
        with pytest.raises(ConfigError) as info:
            preflight.check(too_big, multirun=False)
        suggestion = re.search(r"e\.g\. (\S+=\d+)\.", str(info.value))[1]
        preflight.check([suggestion], multirun=False)  # passes
    with pytest.raises(ConfigError) as info:
        preflight.check(["depth=100000"], multirun=False)
    allowed = re.search(r"allow it with (max_hours=[\d.]+)\.", str(info.value))[1]
    preflight.check(["depth=100000", allowed], multirun=False)


@pytest.mark.parametrize(
    "folder, problem",
    [
        ("/proc/sweeper", "it is in a kernel file system"),
        ("/sys/sweeper", "it is in a kernel file system"),
        ("/tmp/" + "a" * 5000, "a path of 5,005 bytes; at most 4,095"),
        ("/tmp/" + "a/" * 2500, "a path of"),
        ("/tmp/" + "b" * 300 + "/x", "a name of 300 bytes in it; at most 255"),
    ],
)
def test_a_sweep_dir_the_file_system_cannot_hold_is_refused(folder, problem):
    with pytest.raises(ConfigError, match=re.escape(problem)) as info:
        preflight.check(["depth=2,3", f"hydra.sweep.dir={folder}"], multirun=True)
    assert "must be a folder sweeper can create and write" in str(info.value)
    assert len(str(info.value)) < 300  # the long value is shortened


def test_a_yaml_alias_bomb_in_a_config_dir_is_refused_at_once(tmp_path):
    rows = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for name, prev in zip("bcdefghi", "abcdefgh"):
        rows.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    (tmp_path / "init").mkdir()
    (tmp_path / "init" / "evil.yaml").write_text("\n".join(rows) + "\n")  # 9**9
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=r"expands to more than 100,000 values"):
        preflight.check(["init=evil"], multirun=False, config_dir=str(tmp_path))
    assert time.perf_counter() - start < 5  # no expansion was attempted


def test_an_empty_sweep_dir_and_a_sweep_lost_to_a_later_key_are_refused():
    with pytest.raises(ConfigError, match=r"`hydra.sweep.dir` must name a folder"):
        preflight.check(["hydra.sweep.dir="], multirun=True)
    with pytest.raises(ConfigError, match=r"'depth=2,3' and 'depth=4' were passed"):
        preflight.check(["depth=2,3", "depth=4"], multirun=True)


def test_a_bad_value_deep_in_a_big_grid_is_found_with_its_own_message():
    # checked on a copy of one composed config per value: the same words as alone
    grid = ["depth=2,3", "seed=range(0,300)", "optimizer.lr=1e-3,2e-3,fast"]
    with pytest.raises(ConfigError, match=r"`optimizer.lr` must be a number, but 'fa"):
        preflight.check(grid, multirun=True)
    with pytest.raises(ConfigError, match=r"`seed` must be an integer >= 0, but -1"):
        preflight.check(["depth=2,3", "seed=range(-1,300)"], multirun=True)


def test_every_swept_value_is_checked_not_only_the_first():
    with pytest.raises(ConfigError, match=r"`depth` must be an integer >= 1, but 0"):
        preflight.check(["depth=2,3,0"], multirun=True)
    with pytest.raises(ConfigError, match=r"`init` must be one of .* but 'xavir'"):
        preflight.check(["init=normal,xavir", "depth=2,3"], multirun=True)


def test_a_sweep_needs_multirun():
    with pytest.raises(ConfigError, match=r"without --multirun \(-m\), but '2,3'"):
        preflight.check(["depth=2,3"], multirun=False)


def test_good_command_lines_pass():
    preflight.check([], multirun=False)
    preflight.check(["init=normal,xavier", "depth=2,3"], multirun=True)
    preflight.check(
        ["optimizer=adam", "optimizer.lr=1e-2", "clip=none"], multirun=False
    )


def test_every_value_is_tried_once():
    lists = preflight.grid(["init=normal,xavier", "depth=2,3,4"], multirun=True)
    assert lists == [
        ["init=normal", "depth=2"],
        ["init=xavier", "depth=2"],
        ["init=normal", "depth=3"],
        ["init=normal", "depth=4"],
    ]


@pytest.mark.parametrize("args", [["depth=abc"], ["-m", "init=xavir,normal"]])
def test_cli_prints_one_line_and_trains_nothing(tmp_path, args):
    result = subprocess.run(
        [sys.executable, "-m", "sweeper", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("sweeper: error: The value for ")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "outputs").exists()  # no run dir: nothing started


def test_validation_and_planning_do_not_load_tensorflow():
    code = (
        "import sys\n"
        "from sweeper.cli import preflight\n"
        "try:\n"
        "    preflight.check(['depth=2,0'], multirun=True)\n"
        "except ValueError:\n"
        "    pass\n"
        "from sweeper.config.schema import Config\n"
        "from sweeper.sweep.plan import plan\n"
        "plan([Config(depth=2), Config(depth=3)], memory_mb=1024, parts=2)\n"
        "print('tensorflow' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
