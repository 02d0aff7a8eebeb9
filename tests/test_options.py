"""The option table (sweeper/config/options.py) against the YAML, schema and Keras."""

from pathlib import Path

import numpy as np
import pytest

from sweeper.config import options
from sweeper.config.schema import InitConfig

CONF = Path(__file__).parents[1] / "conf"


@pytest.mark.parametrize(
    "group, table",
    [
        ("init", options.INITS),
        ("optimizer", options.OPTIMIZERS),
        ("clip", options.CLIPS),
        ("task", options.TASKS),
        ("model", options.MODELS),
    ],
)
def test_every_option_has_its_yaml_and_every_yaml_its_option(group, table):
    assert {p.stem for p in (CONF / group).glob("*.yaml")} == set(table)


def test_optimizer_hyperparameters_are_optimizer_fields():
    from dataclasses import fields

    from sweeper.config.schema import OptimizerConfig

    names = {f.name for f in fields(OptimizerConfig)}
    for option in options.OPTIMIZERS.values():
        assert set(option.hyperparams) <= names


@pytest.mark.parametrize("name", sorted(set(options.INITS) - {"keep"}))  # keep: own
@pytest.mark.parametrize("shape", [(256, 256), (64, 256)])
def test_weight_variance_matches_keras(name, shape):
    """The table's variance rule against the variance of a Keras draw of 16k entries.

    The sample variance of n entries has a relative spread of about sqrt(2 / n): 1.1%
    at 16,384 entries; 5% is four of those.
    """
    from sweeper.train.initializers import weight_initializer

    field = options.INITS[name].scale_field
    init = InitConfig(name=name, **{field: 0.7})
    kernel = np.asarray(weight_initializer(init, seed=3)(shape), np.float64)
    expected = options.INITS[name].weight_variance(0.7, *shape)
    assert np.var(kernel) == pytest.approx(expected, rel=0.05)
