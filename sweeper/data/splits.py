"""The split's settings and sizes, checked before splitting: a bad one fails with a
message that says which setting to change, not with scikit-learn's own error."""

import math
from numbers import Integral, Real

from sweeper.config.checks import check
from sweeper.data.errors import one_line, shown

# scikit-learn's random_state takes the seeds numpy's legacy generator takes.
SEED_LIMIT = 2**32
MIN_TEST_ROWS = 2  # one test row has no spread to measure a loss over


def _is_integer(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def check_split_settings(test_fraction, split_seed, batch_size=1) -> None:
    """Raise ConfigError unless the split's settings are in range."""
    check(
        isinstance(test_fraction, Real)
        and not isinstance(test_fraction, bool)
        and 0 < test_fraction < 1,
        "task.test_fraction",
        test_fraction,
        "a fraction in (0, 1), e.g. 0.25",
    )
    check(
        _is_integer(split_seed) and 0 <= split_seed < SEED_LIMIT,
        "task.split_seed",
        split_seed,
        "an integer in [0, 2**32)",
    )
    check(
        _is_integer(batch_size) and batch_size >= 1,
        "task.batch_size",
        batch_size,
        "an integer >= 1",
    )


def split_sizes(n_rows: int, test_fraction: float) -> tuple[int, int]:
    """(training rows, test rows) as train_test_split counts them: the test side
    rounds up."""
    n_test = math.ceil(test_fraction * n_rows)
    return n_rows - n_test, n_test


def check_split(
    subject: str,
    n_rows: int,
    test_fraction: float,
    batch_size: int = 1,
    class_counts: dict | None = None,
) -> None:
    """Raise ConfigError unless the split leaves a batch to train on, two rows to test
    on and, when stratified by `class_counts` (label -> rows), every class on both
    sides. `subject` starts the message, e.g. "The file for `task.path` ('a.csv')"."""
    n_train, n_test = split_sizes(n_rows, test_fraction)
    sizes = (
        f"has {n_rows} rows, split by `task.test_fraction`={test_fraction} into "
        f"{n_train} training and {n_test} test rows"
    )
    if n_test < MIN_TEST_ROWS:
        raise one_line(
            f"{subject} {sizes}; testing needs at least {MIN_TEST_ROWS} rows: raise "
            "`task.test_fraction` or add rows"
        )
    if n_train < batch_size:
        raise one_line(
            f"{subject} {sizes}, fewer than `task.batch_size`={batch_size}: lower "
            "`task.batch_size` or add rows"
        )
    if not class_counts:
        return
    rare = min(class_counts, key=class_counts.get)
    if class_counts[rare] < 2:
        # A stratified split puts some of every class on both sides.
        raise one_line(
            f"{subject} has 1 row of class {shown(rare)}; a stratified split needs 2 "
            "of each class: add rows, drop it, or set `task.kind=regression` if the "
            "target is a number to predict"
        )
    n_classes = len(class_counts)
    if n_test < n_classes:
        raise one_line(
            f"{subject} {sizes}; its {n_classes} classes need a test row each: raise "
            "`task.test_fraction` or add rows"
        )
    if n_train < n_classes:
        raise one_line(
            f"{subject} {sizes}; its {n_classes} classes need a training row each: "
            "lower `task.test_fraction` or add rows"
        )
