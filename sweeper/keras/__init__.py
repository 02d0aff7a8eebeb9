"""Gradient flow of your own `model.fit`: `GradientFlow`, a Keras 3 callback.

    from sweeper.keras import GradientFlow

    flow = GradientFlow("outputs/fit", probe=(x_val, y_val), every=10)
    model.fit(x, y, epochs=5, callbacks=[flow])

then `python -m sweeper.report outputs/fit`. Each fit writes a run folder with the
same metrics.csv and run.json a sweep's run has (README, "Your own training loop").
"""

from sweeper.keras.callback import GradientFlow

__all__ = ["GradientFlow"]
