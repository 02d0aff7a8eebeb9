"""`model.build=package.module:function`: the user's own Keras model, built and checked.

The function is called as `function(input_shape, output_dim, **settings)` and must
return a Keras 3 model; `settings` are the `model.<key>` values beyond sweeper's own
(name, build). Every way this can go wrong is a one-line ConfigError before training.
"""

import importlib
import importlib.util
import site
import sys
from pathlib import Path

import numpy as np

from sweeper.config.checks import ConfigError

# Layers whose kernel sweeper measures, and layers it passes through unmeasured
# (no trainable weights of their own, or normalization's scale and offset).
MEASURED = ("Dense", "Conv1D", "Conv2D", "Conv3D")
PASSED = (
    "InputLayer",
    "Activation",
    "Flatten",
    "Reshape",
    "Dropout",
    "Add",
    "Concatenate",
    "ReLU",
    "MaxPooling1D",
    "MaxPooling2D",
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "LayerNormalization",
    "BatchNormalization",
)


def import_function(path: str):
    """The function `package.module:function` names; the working directory is on
    the import path, as for `python -m`."""
    module_name, _, name = path.partition(":")
    if not module_name or not name:
        raise ConfigError(
            f"The value for `model.build` must be 'package.module:function', but "
            f"{path!r} was passed."
        )
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 (the user's module: any error is theirs)
        raise ConfigError(
            f"The value for `model.build` must name an importable module, but "
            f"{path!r} was passed: importing {module_name!r} raised "
            f"{type(exc).__name__}: {_first_line(exc)}"
        ) from None
    function = getattr(module, name, None)
    if not callable(function):
        raise ConfigError(
            f"The value for `model.build` must name a function of {module_name!r}, "
            f"but {path!r} was passed: it has no callable {name!r}."
        )
    return function


def module_source(path: str) -> str | None:
    """The file or package folder of `model.build`'s top-level module, or None for
    an installed package: what a Ray cluster's nodes, which may not share this
    machine's files, need shipped to import it."""
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    top = path.partition(":")[0].split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin in (None, "built-in", "frozen"):
        return None
    locations = spec.submodule_search_locations
    source = Path(locations[0] if locations else spec.origin).resolve()
    installed = [*site.getsitepackages(), site.getusersitepackages()]
    if any(source.is_relative_to(Path(p).resolve()) for p in installed):
        return None
    return str(source)


def build(
    path: str, input_shape: tuple, output_dim: int, settings: dict, seed: int = 0
):
    """The user's model, built for the task's input shape and output count, its own
    initializers seeded with `seed`."""
    import sweeper.train._tf  # noqa: F401  (TensorFlow first, quietly)
    import keras

    function = import_function(path)
    # Keras numbers unnamed layers per process (dense, dense_1, ...): every build
    # starts the count afresh, so a model's layers have the same names in every run.
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)  # after clear_session, which resets Keras' seeds
    try:
        model = function(tuple(input_shape), output_dim, **settings)
    except Exception as exc:  # noqa: BLE001
        raise ConfigError(
            f"The value for `model.build` must build a model, but {path!r} raised "
            f"{type(exc).__name__}: {_first_line(exc)} (called with input_shape="
            f"{tuple(input_shape)}, output_dim={output_dim}, settings {settings})"
        ) from None
    if not isinstance(model, keras.Model):
        raise ConfigError(
            f"The value for `model.build` must return a keras.Model, but {path!r} "
            f"returned a {type(model).__name__}."
        )
    # one example through it builds a subclassed model's weights and shows the shape
    # of its output, which such a model need not compute without data
    try:
        out = (None, *model(np.zeros((1, *input_shape), np.float32)).shape[1:])
    except Exception as exc:  # noqa: BLE001
        raise ConfigError(
            f"The model of `model.build` must run on inputs of shape (batch, "
            f"{', '.join(map(str, input_shape))}), but {path!r} raised "
            f"{type(exc).__name__}: {_first_line(exc)}"
        ) from None
    if out != (None, output_dim):
        raise ConfigError(
            f"The model of `model.build` must output (batch, {output_dim}) for this "
            f"task, but {path!r} outputs {out}."
        )
    for layer in _leaf_layers(model):
        kind = type(layer).__name__
        if kind not in MEASURED and kind not in PASSED and layer.weights:
            raise ConfigError(
                f"The model of `model.build` must hold only layers sweeper can "
                f"measure ({', '.join(MEASURED)}) or weightless ones, but layer "
                f"{layer.name!r} is a {kind}."
            )
    return model


def _leaf_layers(model) -> list:
    return [layer for layer in model._flatten_layers() if not layer._layers]


def measured_layers(model) -> list:
    """The layers with a kernel, in the model's order."""
    return [layer for layer in _leaf_layers(model) if type(layer).__name__ in MEASURED]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else "(no message)"
