"""`model=keras`: a user's own Keras model, measured as sweeper's MLP is.

The user's module is a real file in tmp_path, imported by its name from the working
directory, as `python -m sweeper` imports it.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sweeper.config.checks import ConfigError
from sweeper.config.schema import Config, InitConfig, ModelConfig
from sweeper.train import engine
from sweeper.train.components import model_of, task_of

USER_MODULE = '''
import keras


def origin(input_shape, output_dim, width=16):
    """The question's net: two hidden ReLU layers of 16 units, a linear output."""
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(output_dim),
        ]
    )


def residual(input_shape, output_dim, width=16):
    x = inputs = keras.Input(input_shape)
    x = keras.layers.Dense(width, activation="relu")(x)
    skip = x
    x = keras.layers.Dense(width, activation="relu")(x)
    x = keras.layers.Add()([x, skip])
    return keras.Model(inputs, keras.layers.Dense(output_dim)(x))


def not_a_model(input_shape, output_dim):
    return "a string"


def wrong_output(input_shape, output_dim):
    return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(3)])


def recurrent(input_shape, output_dim):
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Reshape((input_shape[0], 1)),
            keras.layers.SimpleRNN(4),
            keras.layers.Dense(output_dim),
        ]
    )


def raises(input_shape, output_dim):
    raise ValueError("no such net")


def cnn(input_shape, output_dim, filters=8):
    """digits' 64 pixels as an 8x8 image: two convolutions, then a softmax readout."""
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Reshape((8, 8, 1)),
            keras.layers.Conv2D(filters, 3, activation="relu", name="conv_a"),
            keras.layers.Conv2D(filters, 3, activation="relu", name="conv_b"),
            keras.layers.Flatten(),
            keras.layers.Dense(output_dim, name="readout"),
        ]
    )
'''


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    (tmp_path / "user_nets.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.chdir(tmp_path)  # the working directory is on the import path
    return tmp_path


def _cfg(model: ModelConfig, **more) -> Config:
    init = InitConfig(name="normal", std=1e-3, bias_like_weights=True)
    return Config(model=model, init=init, depth=3, **more)


@pytest.mark.parametrize(
    "build, words",
    [
        ("missing_module:origin", "must name an importable module"),
        ("user_nets:nothing", "has no callable 'nothing'"),
        ("user_nets", "must be 'package.module:function'"),
        ("user_nets:not_a_model", "must return a keras.Model, but"),
        ("user_nets:wrong_output", "must output (batch, 1) for this task"),
        ("user_nets:recurrent", "layer 'simple_rnn"),
        ("user_nets:raises", "raised ValueError: no such net"),
    ],
)
def test_bad_models_are_one_line_errors(user_dir, build, words):
    cfg = _cfg(ModelConfig(name="keras", build=build))
    with pytest.raises(ConfigError) as error:
        model_of(cfg, task_of(cfg))
    message = str(error.value)
    assert words in message and "\n" not in message
    assert "model.build" in message


@pytest.mark.slow
def test_the_origin_net_as_a_keras_sequential_measures_as_the_mlp(user_dir):
    common = dict(steps=300, log_every=30, seed=3)
    mlp = engine.train([_cfg(ModelConfig(name="mlp", width=16), **common)])
    keras_cfg = _cfg(ModelConfig(name="keras", build="user_nets:origin"), **common)
    mine = engine.train([keras_cfg])
    for name, values in mlp.layer.items():
        np.testing.assert_allclose(
            mine.layer[name], values, rtol=2e-5, atol=1e-12, err_msg=name
        )
    for name, values in mlp.run.items():
        np.testing.assert_allclose(mine.run[name], values, rtol=2e-5, err_msg=name)


@pytest.mark.slow
def test_a_residual_functional_model_trains_and_is_measured(user_dir):
    cfg = _cfg(ModelConfig(name="keras", build="user_nets:residual"), steps=50)
    m = engine.train([cfg, Config(**{**cfg.__dict__, "seed": 1})])
    assert m.layer["grad_norm"].shape == (2, 2, 3)  # 2 logged steps, 2 runs, 3 layers
    assert np.isfinite(m.layer["delta_rms"]).all() and (m.layer["delta_rms"] > 0).all()
    assert not np.allclose(m.layer["weight_norm"][:, 0], m.layer["weight_norm"][:, 1])


def _sweep(folder, *overrides):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sweeper",
            "-m",
            *overrides,
            f"hydra.sweep.dir={folder}",
        ],
        cwd=folder.parent,
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_a_cnn_on_digits_and_a_residual_model_sweep_end_to_end(user_dir):
    cnn = _sweep(
        user_dir / "cnn",
        "task=digits",
        "model=keras",
        "model.build=user_nets:cnn",
        "+model.filters=4,8",  # the user's own knob, swept
        "init=he_normal",
        "steps=60",
        "log_every=20",
    )
    assert cnn.returncode == 0, cnn.stderr
    runs = [
        json.loads(p.read_text()) for p in sorted((user_dir / "cnn").glob("*/run.json"))
    ]
    assert len(runs) == 2 and all(r["status"] == "ok" for r in runs)
    assert runs[0]["layer_names"] == ["conv_a", "conv_b", "readout"]
    assert {r["config"]["model"]["settings"]["filters"] for r in runs} == {4, 8}
    report = (user_dir / "cnn" / "report.md").read_text()
    assert "model.filters=4" in report and "## Verdicts" in report
    residual = _sweep(
        user_dir / "res",
        "model=keras",
        "model.build=user_nets:residual",
        "init=keep,xavier",  # its own initializers, and sweeper's
        "steps=60",
        "log_every=20",
    )
    assert residual.returncode == 0, residual.stderr
    summary = (user_dir / "res" / "summary.csv").read_text()
    assert "init=keep" in (user_dir / "res" / "report.md").read_text()
    assert summary.count("\n") == 3  # a header and two runs


@pytest.mark.slow
def test_a_bad_builder_stops_the_cli_in_one_line_before_training(user_dir):
    result = _sweep(
        user_dir / "bad", "model=keras", "model.build=user_nets:wrong_output"
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "must output (batch, 1)" in lines[0]
    assert not (user_dir / "bad").exists() or not list(
        (user_dir / "bad").glob("*/run.json")
    )
