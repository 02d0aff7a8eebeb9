"""The `model` node: sweeper's own models' options, or a Keras model's builder and
settings; free of Hydra and TensorFlow, like the rest of the schema."""

from dataclasses import dataclass, field
from typing import Optional

from sweeper.config.checks import ConfigError, check, check_choice, check_fields
from sweeper.config.options import ACTIVATIONS, MODELS, NORMS


@dataclass
class ModelConfig:
    name: str = "mlp"
    width: int = 16
    activation: str = "relu"
    residual: bool = False  # h <- h + act(z) around each hidden layer of equal width
    norm: str = "none"  # none, layer or batch normalization of z, before activation
    # model=keras: the user's builder, package.module:function, and the further
    # model.<key> values it is called with (every key of the model node not above)
    build: Optional[str] = None
    settings: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_fields(self, "model.")
        check_choice("model", self.name, MODELS)
        for name, kind, wanted in (
            ("width", int, "an integer >= 1"),
            ("activation", str, "an activation name"),
            ("norm", str, "none, layer or batch"),
        ):
            value = getattr(self, name)
            ok = isinstance(value, kind) and not isinstance(value, bool)
            check(ok, f"model.{name}", value, wanted)
        check(
            self.name == "keras" or self.build is None,
            "model.build",
            self.build,
            "unset unless model=keras",
        )
        check(self.width >= 1, "model.width", self.width, "an integer >= 1")
        check_choice("model.activation", self.activation, ACTIVATIONS)
        check_choice("model.norm", self.norm, NORMS)


def model_config(node: dict) -> ModelConfig:
    """The model node as a ModelConfig: for model=keras every key but name and build
    is the user's settings; for sweeper's own models, keys it does not know are
    refused."""
    if node.get("name") == "keras":  # sweeper reads name and build; the rest is theirs
        settings = {k: v for k, v in node.items() if k not in ("name", "build")}
        settings = {**(settings.pop("settings", None) or {}), **settings}
        return ModelConfig(name="keras", build=node.get("build"), settings=settings)
    known = set(ModelConfig.__dataclass_fields__)
    extra = {k: v for k, v in node.items() if k not in known}
    if extra:
        key = sorted(extra)[0]
        raise ConfigError(
            f"Unknown key `model.{key}` (value {extra[key]!r}); allowed keys in "
            f"`model` are {sorted(known - {'settings'})}."
        )
    given = {k: v for k, v in node.items() if k in known}
    settings = {**(given.pop("settings", None) or {}), **extra}
    return ModelConfig(**given, settings=settings)
