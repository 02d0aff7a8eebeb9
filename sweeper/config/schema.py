"""Typed config: the dataclasses the YAML is validated against, and their range checks.

Free of Hydra and TensorFlow, so that a bad config fails in well under a second and
the engine can be given a Config built by hand. sweeper.cli.store registers `Config`
with Hydra's ConfigStore.
"""

from dataclasses import dataclass, field
from typing import Optional

from sweeper.config.checks import (
    check,
    check_choice,
    check_fields,
    check_positive,
)
from sweeper.config.model import ModelConfig, model_config
from sweeper.config.options import (
    OBJECTIVES,
    CLIPS,
    INITS,
    KERAS_DEFAULT_SCALE,
    GAUSSIAN_TARGETS,
    OPTIMIZERS,
    TASKS,
)


@dataclass
class InitConfig:
    name: str = "normal"
    # Only the field INITS[name].scale_field names may be set; unset = Keras' default.
    std: Optional[float] = None  # normal, truncated_normal
    limit: Optional[float] = None  # uniform
    gain: Optional[float] = None  # variance-scaling inits and orthogonal
    bias: float = 0.0  # constant bias, unless bias_like_weights
    bias_like_weights: bool = False
    # init=scaled: weights N(0, sigma_w2 / fan_in), biases N(0, sigma_b2)
    sigma_w2: Optional[float] = None
    sigma_b2: Optional[float] = None

    def __post_init__(self) -> None:
        check_fields(self, "init.")
        check_choice("init", self.name, INITS)
        scale_field = INITS[self.name].scale_field
        if self.name == "keep":
            check(self.gain is None, "init.gain", self.gain, "unset for init=keep")
        if self.sigma_b2 is not None:
            check(
                self.name == "scaled",
                "init.sigma_b2",
                self.sigma_b2,
                f"unset for init={self.name} (init.bias sets its bias)",
            )
            check(self.sigma_b2 >= 0, "init.sigma_b2", self.sigma_b2, ">= 0")
        if self.name == "scaled":
            for name in ("bias", "bias_like_weights"):
                check(
                    not getattr(self, name),
                    f"init.{name}",
                    getattr(self, name),
                    "left unset for init=scaled (init.sigma_b2 sets the biases)",
                )
        for name in ("std", "limit", "gain", "sigma_w2"):
            value = getattr(self, name)
            if value is None:
                continue
            check(
                name == scale_field,
                f"init.{name}",
                value,
                f"unset for init={self.name} (it reads init.{scale_field})",
            )
            check_positive(f"init.{name}", value)

    @property
    def scale(self) -> float:
        """The one number that sets this init's spread (std, limit or gain)."""
        scale_field = INITS[self.name].scale_field
        value = getattr(self, scale_field)
        return KERAS_DEFAULT_SCALE[scale_field] if value is None else value


@dataclass
class OptimizerConfig:
    name: str = "sgd"
    lr: float = 1e-3
    momentum: float = 0.9
    beta_1: float = 0.9
    beta_2: float = 0.999
    rho: float = 0.9
    epsilon: float = 1e-7
    initial_accumulator: float = 0.1

    def __post_init__(self) -> None:
        check_fields(self, "optimizer.")
        check_choice("optimizer", self.name, OPTIMIZERS)
        check_positive("optimizer.lr", self.lr)
        for key in ("momentum", "beta_1", "beta_2", "rho"):
            value = getattr(self, key)
            check(0 <= value < 1, f"optimizer.{key}", value, "in [0, 1)")
        check_positive("optimizer.epsilon", self.epsilon)
        check(
            self.initial_accumulator >= 0,
            "optimizer.initial_accumulator",
            self.initial_accumulator,
            ">= 0",
        )


@dataclass
class ClipConfig:
    name: str = "value"
    threshold: float = 4.5

    def __post_init__(self) -> None:
        check_fields(self, "clip.")
        check_choice("clip", self.name, CLIPS)
        check_positive("clip.threshold", self.threshold)


@dataclass
class TaskConfig:
    """Every task's fields; options.TASKS says which ones each task reads."""

    name: str = "identity"
    batch_size: int = 1
    output_scale: float = 2.0  # identity: estimate = output_scale * output
    probe_size: int = 256  # identity, gaussian: examples of the fixed probe set
    # gaussian
    input_dim: Optional[int] = None
    output_dim: Optional[int] = None
    targets: Optional[str] = None  # teacher (learnable) or random (nothing to learn)
    teacher_seed: Optional[int] = None  # seeds the inputs and the teacher net
    train_size: Optional[int] = None  # examples the batches are drawn from
    # digits, breast_cancer, wine, file: a seeded (stratified) train/test split
    test_fraction: Optional[float] = None
    split_seed: Optional[int] = None
    # file: the user's data (.csv with a target column, or .npz with x and y)
    path: Optional[str] = None
    target: Optional[str] = None
    kind: Optional[str] = None  # regression or classification; null = inferred

    def __post_init__(self) -> None:
        check_fields(self, "task.")
        check_choice("task", self.name, TASKS)
        reads = TASKS[self.name]
        check(
            self.batch_size >= 1, "task.batch_size", self.batch_size, "an integer >= 1"
        )
        check(
            self.output_scale != 0, "task.output_scale", self.output_scale, "non-zero"
        )
        check(
            self.probe_size >= 2, "task.probe_size", self.probe_size, "an integer >= 2"
        )
        defaults = TaskConfig.__dataclass_fields__
        for name in ("output_scale", "probe_size"):
            value = getattr(self, name)
            check(
                name in reads or value == defaults[name].default,
                f"task.{name}",
                value,
                f"left at its default for task={self.name} (it does not read it)",
            )
        for name, spec in defaults.items():
            value = getattr(self, name)
            if spec.default is None and value is not None:
                check(
                    name in reads,
                    f"task.{name}",
                    value,
                    f"unset for task={self.name} (it reads {', '.join(reads)})",
                )
        for name in ("input_dim", "output_dim", "train_size"):
            value = getattr(self, name)
            if value is not None:
                check(value >= 1, f"task.{name}", value, "an integer >= 1")
        for name in ("teacher_seed", "split_seed"):
            value = getattr(self, name)
            if value is not None:
                check(value >= 0, f"task.{name}", value, "an integer >= 0")
        if self.targets is not None:
            check_choice("task.targets", self.targets, GAUSSIAN_TARGETS)
        if self.test_fraction is not None:
            check(
                0 < self.test_fraction < 1,
                "task.test_fraction",
                self.test_fraction,
                "in (0, 1)",
            )
        if self.kind is not None:
            check_choice("task.kind", self.kind, ("regression", "classification"))
        if self.name == "file":
            check(bool(self.path), "task.path", self.path, "a .csv or .npz file")


@dataclass
class VerdictConfig:
    vanish_decades: float = 1.0
    explode_decades: float = 1.0
    learn_ratio: float = 0.1
    unstable_loss: float = 10.0
    dead_frac: float = 0.75
    collapse_spread: float = 0.1
    collapse_loss: float = 0.5

    def __post_init__(self) -> None:
        check_fields(self, "verdict.")
        for key, value in vars(self).items():
            check_positive(f"verdict.{key}", value)
        check(
            self.unstable_loss > 1,
            "verdict.unstable_loss",
            self.unstable_loss,
            "> 1 (a growth factor of the probe loss)",
        )
        check(self.dead_frac <= 1, "verdict.dead_frac", self.dead_frac, "in (0, 1]")


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    init: InitConfig = field(default_factory=InitConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    clip: ClipConfig = field(default_factory=ClipConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    verdict: VerdictConfig = field(default_factory=VerdictConfig)
    depth: int = 3
    steps: int = 10_000
    seed: int = 0
    log_every: int = 100
    # Also write TensorBoard event files (histograms and norms per layer at every
    # logged step) into <job dir>/tensorboard; changes no metric.
    tensorboard: bool = False
    # How to treat a sweep dir that already holds runs; not part of a run's identity.
    resume: bool = False  # skip jobs whose complete run.json has the same config
    resume_failed: bool = True  # with resume, train failed jobs again
    # What the task function returns, for sweepers that optimize it (lower is better)
    objective: str = "final_loss"
    # A run the planner estimates to take longer (compile + train, one core) is refused
    max_hours: float = 12.0

    def __post_init__(self) -> None:
        check_fields(self, "")
        if isinstance(self.model, dict):  # as Hydra's untyped model node gives it
            self.model = model_config(self.model)
        check(
            self.init.name != "keep" or self.model.name == "keras",
            "init",
            self.init.name,
            "a named init (keep is for model=keras: the model's own initializers)",
        )
        check(self.depth >= 1, "depth", self.depth, "an integer >= 1")
        check(self.steps >= 1, "steps", self.steps, "an integer >= 1")
        check(self.seed >= 0, "seed", self.seed, "an integer >= 0")
        check(self.log_every >= 0, "log_every", self.log_every, "an integer >= 0")
        check_choice("objective", self.objective, OBJECTIVES)
        check(self.max_hours > 0, "max_hours", self.max_hours, "a number of hours > 0")


# Keys that steer how a sweep runs, not what a run is: left out of its fingerprint and
# its settings columns.
SWEEP_KEYS = ("resume", "resume_failed", "objective", "max_hours")
