"""`sweeper.keras.GradientFlow`: a user's own `model.fit`, measured as a sweep measures.

The same model, seed and batches trained by the sweep (`model=keras`) and by Keras'
`fit` with the callback give the same metrics.csv, and `python -m sweeper.report`
reports on the fit's folder.
"""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pandas as pd
import pytest

from sweeper.config.schema import (
    Config,
    InitConfig,
    ModelConfig,
    OptimizerConfig,
    TaskConfig,
)
from sweeper.contract import LAYER_METRICS, RUN_METRICS
from sweeper.keras import GradientFlow
from sweeper.record import validate
from sweeper.train import engine
from sweeper.train.components import model_of, task_of

USER_MODULE = '''
import keras


def functional(input_shape, output_dim, width=12):
    x = inputs = keras.Input(input_shape)
    x = keras.layers.Dense(width, activation="relu")(x)
    x = keras.layers.Dense(width, activation="tanh")(x)
    return keras.Model(inputs, keras.layers.Dense(output_dim)(x))


class Subclassed(keras.Model):
    """A subclassed model: its layers made in __init__, wired in call."""

    def __init__(self, output_dim, width):
        super().__init__()
        self.hidden = keras.layers.Dense(width, activation="relu")
        self.readout = keras.layers.Dense(output_dim)

    def call(self, x):
        return self.readout(self.hidden(x))


def subclassed(input_shape, output_dim, width=12):
    return Subclassed(output_dim, width)
'''

STEPS, EVERY, SEED = 40, 10, 5


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    (tmp_path / "fit_nets.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.chdir(tmp_path)  # the working directory is on the import path
    return tmp_path


def _cfg(build: str, task: TaskConfig, lr: float) -> Config:
    return Config(
        model=ModelConfig(name="keras", build=build),
        init=InitConfig(name="xavier"),
        optimizer=OptimizerConfig(name="sgd", lr=lr),
        task=task,
        steps=STEPS,
        log_every=EVERY,
        seed=SEED,
    )


def _fit(cfg: Config, folder, loss) -> None:
    """Train the sweep's model, initial weights and batches with Keras' own fit."""
    task = task_of(cfg)
    swept = model_of(cfg, task)
    model = swept.model
    model.set_weights(swept.initial_params(cfg.init, cfg.seed))
    indices, x_pool, y_pool = task.training_data(cfg.steps, cfg.seed)
    rows = indices[: cfg.steps].reshape(-1)  # the sweep's batches, in its order
    model.compile(optimizer=keras.optimizers.SGD(cfg.optimizer.lr), loss=loss)
    flow = GradientFlow(folder, probe=task.probe(), every=cfg.log_every, seed=cfg.seed)
    model.fit(
        x_pool[rows],
        y_pool[rows],
        batch_size=task.batch_size,
        shuffle=False,
        epochs=1,
        verbose=0,
        callbacks=[flow],
    )


# figures of the last row that read only the trained weights and the probe (the
# sweep's last row reads one more training batch, the fit's the probe)
LAST_ROW = ["weight_norm", "drift", "act_rms", "dead_frac", "probe_loss"]
LAST_ROW += ["out_spread", "probe_accuracy"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "build, task, loss",
    [
        (
            "fit_nets:functional",
            TaskConfig(name="digits", batch_size=16),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        ),
        (
            "fit_nets:subclassed",
            TaskConfig(name="gaussian", batch_size=8, input_dim=6, probe_size=64),
            "mse",
        ),
    ],
    ids=["functional-digits", "subclassed-gaussian"],
)
def test_fit_measures_as_the_sweep_does(user_dir, build, task, loss):
    cfg = _cfg(build, task, lr=0.05)
    swept = engine.train([cfg])
    _fit(cfg, user_dir / "fit", loss)
    run_dir = user_dir / "fit" / "0"
    checked = validate.check_run(run_dir)
    assert checked.record is not None, checked.problem
    table = pd.read_csv(run_dir / "metrics.csv")
    assert sorted(table["step"].unique()) == list(swept.steps)
    layers = table["layer"].nunique()
    for name in (*LAYER_METRICS, *RUN_METRICS):
        fit = table[name].to_numpy().reshape(len(swept.steps), layers)
        sweep = (swept.layer if name in LAYER_METRICS else swept.run)[name][:, 0]
        sweep = sweep if sweep.ndim == 2 else np.repeat(sweep[:, None], layers, 1)
        rows = slice(None) if name in LAST_ROW else slice(0, -1)
        if name == "update_ratio":  # no update follows the fit's last row
            assert np.isnan(fit[-1]).all()
        np.testing.assert_allclose(
            fit[rows], sweep[rows], rtol=2e-4, atol=1e-7, equal_nan=True, err_msg=name
        )
    record = checked.record
    assert record["layer_names"] == model_of(cfg, task_of(cfg)).layer_names
    assert record["config"]["steps"] == STEPS and record["verdict"] in (
        "healthy",
        "collapsed",
    )


@pytest.mark.slow
def test_the_report_reads_a_fit_folder_and_the_model_keeps_its_own_step(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (256, 1)).astype("float32")
    folder = tmp_path / "fits"
    for std in (1e-3, 0.5):  # the origin's collapse and a healthy start
        inputs = keras.Input((1,))
        h = inputs
        for _ in range(2):
            init = keras.initializers.RandomNormal(stddev=std, seed=1)
            h = keras.layers.Dense(16, activation="relu", kernel_initializer=init)(h)
        model = keras.Model(inputs, keras.layers.Dense(1)(h))
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        flow = GradientFlow(
            folder, probe=(x[:64], x[:64]), every=8, settings={"std": std}
        )
        model.fit(x, x, batch_size=8, epochs=1, verbose=0, callbacks=[flow])
        assert "train_step" not in vars(model)  # Keras' own step is back
    runs = sorted(p.name for p in folder.iterdir())
    assert runs == ["0", "1"]
    records = [json.loads((folder / r / "run.json").read_text()) for r in runs]
    tiny, wide = sorted(records, key=lambda r: r["settings"]["std"])
    assert wide["verdict"] == "healthy"
    # Normal(0, 1e-3): the signal reaching the first layer is ~2.5 decades down
    assert tiny["figures"]["signal_decades"] < -2 and tiny["flags"]["vanishing"]
    assert tiny["verdict"] in ("vanishing", "dead", "collapsed")
    done = subprocess.run(
        [sys.executable, "-m", "sweeper.report", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = (folder / "report.md").read_text()
    assert "std=0.001: " in report and "std=0.5: healthy" in report
    assert "a Keras model trained by its own fit" in report


def test_bad_arguments_are_one_line_errors(tmp_path):
    probe = (np.zeros((4, 1), np.float32), np.zeros((4, 1), np.float32))
    for kwargs, words in [
        ({"every": 0}, "every must be an int >= 1"),
        ({"run": "../elsewhere"}, "run must be a folder name"),
        ({"settings": {"a": [1]}}, "settings must be plain values"),
        ({"probe": probe[0]}, "probe must be a pair"),
    ]:
        with pytest.raises(ValueError) as error:
            GradientFlow(tmp_path, **{"probe": probe, **kwargs})
        assert words in str(error.value) and "\n" not in str(error.value)
