"""Tasks and models by their short name, and the protocol each implements.

The engine, the measurements and the planner use only these protocols; a new task or
model is a module implementing one, its YAML in conf/, and an entry below (and in
config.options). Every tensor a component handles carries a leading run axis R.
"""

from typing import Protocol

import numpy as np

from sweeper.config.options import CLIP_KINDS, OPTIMIZERS
from sweeper.config.schema import Config, InitConfig
from sweeper.contract import ParamSpec, ProgramKey
from sweeper.train.gaussian import gaussian
from sweeper.train.identity import Identity
from sweeper.train.tables import table_task
from sweeper.train.mlp import MLP


class Task(Protocol):
    """Data, targets and loss: what a net is trained and measured on."""

    input_dim: int
    output_dim: int

    def key(self) -> tuple:
        """Structural settings (name first): runs that differ here never share a
        program."""

    def hyperparams(self) -> dict:
        """Per-run numbers the program reads (name -> float)."""

    def training_data(self, steps: int, seed: int) -> tuple[np.ndarray, ...]:
        """A run's training data, seeded: arrays with a leading step axis
        [steps + 1, ...] (stacked per run by the engine), or arrays every run of the
        task shares (the same objects for every run: a data set, passed once)."""

    def data_size(self, steps: int) -> int:
        """How many 4-byte values a run's training data holds (for the planner)."""

    def batch(self, data: tuple, t) -> tuple:
        """Step t's inputs [R, batch, in] and targets from the program's `data`."""

    def probe(self) -> tuple[np.ndarray, np.ndarray]:
        """The fixed probe set (x [P, in], y [P, out]) that measures a trained net."""

    def baseline_loss(self) -> float:
        """Probe loss of the best constant prediction."""

    def predict(self, output, hp: dict):
        """The prediction from the network's output, [R, batch, out]."""

    def loss(self, prediction, target):
        """Each run's loss, [R]: the mean over the batch of each example's own loss."""

    def accuracy(self, prediction, target):
        """Each run's share of right predictions, [R]; NaN for regression."""

    def spread(self, prediction, target):
        """How much each run's prediction varies over the probe, relative to the
        target's variation, [R]: 0 when the output ignores the input."""


class Model(Protocol):
    """The network: its parameters, their initial values and its forward pass."""

    relu_like: bool  # hidden units that never switch on count as dead

    def key(self) -> tuple:
        """Structural settings (name first): part of the program key."""

    def param_specs(self) -> list[ParamSpec]:
        """Every parameter tensor of one run: layer, role and shape."""

    def initial_params(self, init: InitConfig, seed: int) -> list[np.ndarray]:
        """One run's seeded parameters in `param_specs` order."""

    def buffer_shapes(self) -> list[tuple]:
        """Per-run state that is not trained (batch norm's running statistics)."""

    def initial_buffers(self) -> list[np.ndarray]:
        """That state's starting values, in `buffer_shapes` order."""

    def signal_shapes(self) -> list[tuple]:
        """Each measured layer's z per example (what `forward`'s `signal` adds to)."""

    def forward(
        self, params: list, x, buffers=(), training: bool = True, signal=None
    ) -> tuple:
        """Every layer's pre-activation z (its Dense output), output h and activation
        input (z after any normalization), [R, batch, units] each; the updated
        buffers (training) or the buffers read (not training); each layer's input
        ([R, batch, in], None where its kernel gradient is not rank one). `signal`:
        zero tensors added to each z, so that dL/dz is the gradient by them."""


TASKS = {
    "identity": Identity,
    "gaussian": gaussian,
    "digits": table_task,
    "breast_cancer": table_task,
    "wine": table_task,
    "file": table_task,
}


def task_of(cfg: Config) -> Task:
    return TASKS[cfg.task.name](cfg.task)


def model_of(cfg: Config, task: Task) -> Model:
    if cfg.model.name == "keras":
        return _keras_model(cfg, task.input_dim, task.output_dim)
    return MLP.from_config(cfg, task.input_dim, task.output_dim)


_KERAS: dict = {}


def _keras_model(cfg: Config, input_dim: int, output_dim: int) -> Model:
    """A user's Keras model, built once per process for each builder and settings
    (the planner asks for every job's; a build loads TensorFlow and traces)."""
    from sweeper.train.keras_model import KerasModel, key_of

    key = key_of(cfg.model.build, cfg.model.settings, input_dim, output_dim)
    if key not in _KERAS:
        _KERAS[key] = KerasModel.from_config(cfg, input_dim, output_dim)
    return _KERAS[key]


def program_key(cfg: Config, task: Task | None = None, model=None) -> ProgramKey:
    """The compiled-program key of a run (of its components, when made already)."""
    task = task or task_of(cfg)
    model = model or model_of(cfg, task)
    return ProgramKey(
        task=task.key(),
        model=model.key(),
        steps=cfg.steps,
        log_every=cfg.log_every,
        tensorboard=cfg.tensorboard,
    )


def optimizers_of(cfgs: list[Config]) -> tuple[str, ...]:
    """The optimizers among `cfgs`, in a fixed order: part of their program's key."""
    names = {cfg.optimizer.name for cfg in cfgs}
    return tuple(name for name in OPTIMIZERS if name in names)


def clips_of(cfgs: list[Config]) -> tuple[str, ...]:
    """The clip kinds among `cfgs`, in a fixed order: part of their program's key."""
    names = {cfg.clip.name for cfg in cfgs}
    return tuple(kind for kind in CLIP_KINDS if kind in names)
