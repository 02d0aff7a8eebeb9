"""A training process imports TensorFlow without Keras' optional modules, and they
are importable again once it has (sweeper/train/lean.py)."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # a fresh process: TensorFlow's import is the point

CHILD = """
import sys
import numpy
from sweeper.train import lean

lean.engine()
skipped = [name for name in lean.OPTIONAL if name in sys.modules]
import pandas, matplotlib  # importable again
from keras.src.trainers.data_adapters import array_slicing
print(skipped, array_slicing.pandas is None, sys.modules["numpy"] is numpy)
"""

BEFORE = """
import sys
import pandas
from sweeper.train import lean

lean.engine()
from keras.src.trainers.data_adapters import array_slicing
print(array_slicing.pandas is pandas)
"""


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_engine_loads_without_keras_optional_modules_which_stay_importable():
    assert _run(CHILD) == "[] True True"


def test_a_module_imported_before_is_left_as_it_is():
    assert _run(BEFORE) == "True"
