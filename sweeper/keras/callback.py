"""`GradientFlow`: a Keras callback that makes `model.fit` record sweeper's per-layer
gradient statistics into a run folder that `python -m sweeper.report` reads.

Keras builds fit's train function after it sets the callbacks' model, so the callback
puts its measured train step (sweeper/keras/step.py) in place there, around the
model's own, and takes it away when training ends.
"""

import math
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import keras
import numpy as np

from sweeper.config.schema import VerdictConfig
from sweeper.contract import LAYER_METRICS, RUN_METRICS, ProgramKey
from sweeper.keras.step import MeasuredStep
from sweeper.record import files, verdict

RUN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.=,-]*")


class GradientFlow(keras.callbacks.Callback):
    """Record the gradient flow of `model.fit` every `every` steps.

    Parameters
    ----------
    folder
        Where runs go: each `fit` writes one run folder in it, named `run` (default
        the next free number), and `python -m sweeper.report <folder>` reports on
        them all, as on a sweep.
    probe
        (x, y): fixed examples held out of training (a few hundred of the
        validation set). Activation RMS, dead units, the probe loss and spread are
        measured on them, and so is the last row (the trained weights).
    every
        Log every `every`-th optimizer step (step 0 included), and the end.
    settings
        What tells this run from the others of the folder, e.g. {"dropout": 0.2}:
        the report compares runs by them.
    seed
        The run's seed, if it has one, recorded so the report counts seeds.
    verdict
        Thresholds of the verdict (sweeper.config.schema.VerdictConfig).
    """

    def __init__(
        self,
        folder,
        probe: tuple,
        every: int = 10,
        run: str | None = None,
        settings: dict | None = None,
        seed: int | None = None,
        verdict: VerdictConfig | None = None,
    ):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"GradientFlow's every must be an int >= 1, not {every!r}")
        if run is not None and not RUN_NAME.fullmatch(str(run)):
            raise ValueError(
                f"GradientFlow's run must be a folder name of letters, digits and "
                f"_.=,- (not starting with . or -), not {run!r}"
            )
        settings = dict(settings or {})
        for key, value in settings.items():
            if not isinstance(value, (str, int, float, bool)):
                raise ValueError(
                    f"GradientFlow's settings must be plain values, but {key!r} is a "
                    f"{type(value).__name__}"
                )
        if not (isinstance(probe, (tuple, list)) and len(probe) == 2):
            raise ValueError("GradientFlow's probe must be a pair (x, y)")
        self.folder, self.probe, self.every = Path(folder), tuple(probe), every
        self.run, self.settings, self.seed = run, settings, seed
        self.thresholds = verdict or VerdictConfig()
        self._measured = None

    def set_model(self, model) -> None:
        super().set_model(model)
        if keras.backend.backend() != "tensorflow":
            raise ValueError(
                f"GradientFlow needs Keras' TensorFlow backend, not "
                f"{keras.backend.backend()!r}"
            )
        per_call = getattr(model, "steps_per_execution", 1) or 1
        if self.every % per_call:
            raise ValueError(
                f"GradientFlow's every ({self.every}) must be a multiple of the "
                f"model's steps_per_execution ({per_call})"
            )
        if self._measured is None or self._measured.model is not model:
            self._measured = MeasuredStep(model, self.probe)
        self._original = model.train_step
        self._own_step = "train_step" in vars(model)  # set on the object, not its class
        model.train_step = self._measured.train_step(self._original, self.every)
        model.train_function = None  # fit builds it anew, from the measured step

    def on_train_begin(self, logs=None) -> None:
        self._measured.begin()
        self._rows, self._last = [], -1
        self._diverged_at = -1
        self._started, self._clock = time.time(), time.perf_counter()

    def on_train_batch_end(self, batch, logs=None) -> None:
        step = int(self._measured.step.numpy())
        if step > self._last:
            self._rows.append(self._measured.row())
            self._last = step
        loss = (logs or {}).get("loss")
        if (
            self._diverged_at < 0
            and loss is not None
            and not math.isfinite(float(loss))
        ):
            # fit's loss is the epoch's running mean: it turns non-finite at the first
            # non-finite step, and stays so
            self._diverged_at = self._steps_done() - 1

    def on_train_end(self, logs=None) -> None:
        model = self.model
        if self._own_step:
            model.train_step = self._original
        else:
            del model.train_step
        model.train_function = None
        steps = self._steps_done()
        if steps == 0:
            return
        self._measured.final(steps)
        self._rows.append(self._measured.row())
        self._write(steps)

    def _steps_done(self) -> int:
        done = int(self.model.optimizer.iterations.numpy())
        return done - int(self._measured.start.numpy())

    def _write(self, steps: int) -> None:
        rows = self._rows
        logged = ProgramKey((), (), steps, self.every, False).logged_steps
        kept = np.array([step for step, _ in rows])
        if not np.array_equal(kept, logged):
            raise RuntimeError(
                f"GradientFlow logged steps {kept.tolist()}, not {logged.tolist()}"
            )
        layer = {n: np.stack([values[n] for _, values in rows]) for n in LAYER_METRICS}
        run = {n: np.array([values[n] for _, values in rows]) for n in RUN_METRICS}
        out_dir = self._run_dir()
        metrics = out_dir / files.METRICS_FILE
        files.write_metrics(logged, layer, run, self.settings, metrics)
        baseline = self._measured.task.baseline_loss()
        judged = verdict.assess(
            layer, run, logged, baseline, self._diverged_at, self.thresholds
        )
        config = self._config(steps)
        record = {
            **files.run_head(self.settings, config, " ".join(sys.argv), config),
            "init_variances": {},
            "layer_names": self._measured.taps.layer_names,
            "theory": {"applies": False, "why": "a Keras model trained by its own fit"},
            **judged,
            "error": None,
            "timings": {
                "started_at": datetime.fromtimestamp(
                    self._started, timezone.utc
                ).isoformat(timespec="seconds"),
                "group_seconds": time.perf_counter() - self._clock,
                "group_size": 1,
            },
        }
        files.write_json(record, out_dir / files.RUN_FILE)

    def _run_dir(self) -> Path:
        """This run's folder in `folder`: `run`, or the next free number; never a
        link, never outside the folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = self.run
        if name is None:
            taken = {p.name for p in self.folder.iterdir()}
            name = str(next(i for i in range(len(taken) + 1) if str(i) not in taken))
        out_dir = self.folder / name
        if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
            raise ValueError(
                f"GradientFlow will not write through {out_dir}: not a folder"
            )
        out_dir.mkdir(exist_ok=True)
        return out_dir

    def _config(self, steps: int) -> dict:
        """What run.json records of the run's setup."""
        model, optimizer = self.model, self.model.optimizer
        kind = type(model)
        try:
            # the float32 value as it prints (0.05, not 0.0500000007...)
            lr = float(str(np.float32(np.asarray(optimizer.learning_rate))))
        except (TypeError, ValueError):
            lr = None
        return {
            "steps": steps,
            "log_every": self.every,
            "seed": self.seed,
            "model": {
                "name": "keras",
                # Keras' own classes (Functional, Sequential) by their public names
                "class": kind.__qualname__
                if kind.__module__.startswith("keras.")
                else f"{kind.__module__}.{kind.__qualname__}",
                "keras_name": model.name,
            },
            "optimizer": {"name": type(optimizer).__name__.lower(), "lr": lr},
            "task": {"name": "fit", "probe_size": len(self.probe[0])},
        }
