"""Verdicts of real runs: each names the cause a user would act on."""

import pytest

from sweeper.config.schema import (
    ClipConfig,
    Config,
    InitConfig,
    OptimizerConfig,
    VerdictConfig,
)
from sweeper.record import verdict
from sweeper.train import engine

pytestmark = pytest.mark.slow  # trains real runs


def judged(cfg: Config) -> tuple[str, dict, dict]:
    m = engine.train([cfg])
    layer = {name: values[:, 0] for name, values in m.layer.items()}
    run = {name: values[:, 0] for name, values in m.run.items()}
    figs = verdict.figures(layer, run, m.steps, m.baseline_loss)
    name, flags = verdict.judge(figs, int(m.diverged_at[0]), VerdictConfig())
    return name, flags, layer


def test_a_wholly_dead_layer_is_judged_dead_not_vanishing():
    # The 256-run benchmark grid's depth=4 init=normal optimizer=adam seed=0: Adam's
    # first steps push every unit of the second hidden layer below zero for good.
    cfg = Config(
        depth=4,
        init=InitConfig(name="normal", std=1e-3, bias_like_weights=True),
        optimizer=OptimizerConfig(name="adam", lr=1e-3),
        clip=ClipConfig(name="value", threshold=4.5),
        steps=1000,
        log_every=100,
    )
    name, flags, layer = judged(cfg)
    assert layer["dead_frac"][-1, 1] == 1.0  # every unit of a hidden layer is dead
    assert (layer["bias_grad_norm"][1:, 0] == 0).all()  # no signal gets below it
    assert flags["vanishing"] and flags["dead"]  # both conditions hold ...
    assert name == "dead"  # ... and the verdict names the cause


def test_vanishing_through_live_units_stays_vanishing():
    # The origin case at depth 3 (conf defaults): the signal shrinks ~400x a layer
    # through units that are alive; it is not stopped by dead ones.
    cfg = Config(
        depth=3,
        init=InitConfig(name="normal", std=1e-3, bias_like_weights=True),
        steps=1000,
        log_every=100,
    )
    name, flags, layer = judged(cfg)
    assert (layer["bias_grad_norm"][:, 0] > 0).all()
    assert name == "vanishing"
