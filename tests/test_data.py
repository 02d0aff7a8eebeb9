"""sweeper.data: the built-in sets, the user's CSV and .npz files, and every way a
file can be wrong. Real files in tmp_path; no TensorFlow."""

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.model_selection import train_test_split

from sweeper.config.checks import ConfigError
from sweeper.data import BUILTIN, Dataset, load_builtin, load_file

SKLEARN = {
    "digits": load_digits,
    "breast_cancer": load_breast_cancer,
    "wine": load_wine,
}
SHAPES = {"digits": (1797, 64, 10), "breast_cancer": (569, 30, 2), "wine": (178, 13, 3)}
MAX_MESSAGE = 200  # characters, less the paths a message quotes


def csv(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def npz(tmp_path: Path, name: str = "data.npz", **arrays) -> Path:
    path = tmp_path / name
    with open(path, "wb") as handle:  # a handle: np.savez would not rename it
        np.savez(handle, **arrays)
    return path


def rows(labels, features: int = 2) -> str:
    """A CSV with `features` numeric columns f0.. and a target column `y`."""
    header = ",".join([f"f{j}" for j in range(features)] + ["y"])
    lines = [
        ",".join([str(i * (j + 1) % 7) for j in range(features)] + [str(label)])
        for i, label in enumerate(labels)
    ]
    return "\n".join([header, *lines]) + "\n"


def all_y(data: Dataset) -> np.ndarray:
    return np.concatenate([data.y_train, data.y_test])


# --- built-in sets ---------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_set_has_its_shape(name):
    n_rows, n_features, n_classes = SHAPES[name]
    data = load_builtin(name)
    n_test = math.ceil(0.25 * n_rows)
    assert data.x_train.shape == (n_rows - n_test, n_features)
    assert data.x_test.shape == (n_test, n_features)
    assert data.y_train.shape == (n_rows - n_test,) and data.y_test.shape == (n_test,)
    assert data.x_train.dtype == data.x_test.dtype == np.float32
    assert data.y_train.dtype == data.y_test.dtype == np.int32
    assert (data.kind, data.name) == ("classification", name)
    assert data.input_dim == n_features and data.output_dim == n_classes
    expected = tuple(str(t) for t in SKLEARN[name]().target_names)
    assert data.classes == expected and len(expected) == n_classes


@pytest.mark.parametrize("name", BUILTIN)
def test_split_is_stratified(name):
    data = load_builtin(name)
    whole = np.bincount(all_y(data)) / len(all_y(data))
    for y in (data.y_train, data.y_test):
        counts = np.bincount(y, minlength=len(whole))
        assert np.all(np.abs(counts - whole * len(y)) <= 1)


def test_split_is_reproducible_and_changes_with_the_seed():
    first, again = load_builtin("digits", split_seed=0), load_builtin("digits")
    other = load_builtin("digits", split_seed=1)
    np.testing.assert_array_equal(first.x_test, again.x_test)
    np.testing.assert_array_equal(first.y_train, again.y_train)
    assert first.x_test.shape == other.x_test.shape
    assert not np.array_equal(first.x_test, other.x_test)


@pytest.mark.parametrize("name", BUILTIN)
def test_training_features_are_standardized(name):
    x = load_builtin(name).x_train.astype(np.float64)
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-5)
    std = x.std(axis=0)
    constant = std == 0  # e.g. digits' corner pixels: 0 everywhere, not NaN
    assert np.all(x[:, constant] == 0)
    np.testing.assert_allclose(std[~constant], 1, atol=1e-5)


@pytest.mark.parametrize("name, seed", [("digits", 0), ("wine", 3)])
def test_test_features_use_the_training_statistics(name, seed):
    raw = SKLEARN[name]()
    x_train, x_test, _, y_test = train_test_split(
        raw.data, raw.target, test_size=0.3, random_state=seed, stratify=raw.target
    )
    std = x_train.std(axis=0)
    std[std == 0] = 1
    expected = (x_test - x_train.mean(axis=0)) / std
    data = load_builtin(name, test_fraction=0.3, split_seed=seed)
    np.testing.assert_allclose(data.x_test, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(data.y_test, y_test)


def test_a_caller_cannot_corrupt_the_cached_set():
    data = load_builtin("wine")
    saved = data.x_train.copy()
    data.x_train[:] = 99
    data.y_train[:] = 0
    again = load_builtin("wine")
    np.testing.assert_array_equal(again.x_train, saved)
    assert len(set(again.y_train.tolist())) == 3


def test_an_unknown_builtin_name_is_refused():
    with pytest.raises(ConfigError, match=r"`task` must be one of \['digits'"):
        load_builtin("mnist")


def test_a_builtin_test_split_too_small_for_its_classes_is_refused():
    with pytest.raises(
        ConfigError, match="`task=wine`.*its 3 classes need a test row each"
    ):
        load_builtin("wine", test_fraction=0.01)


# --- the user's files ------------------------------------------------------------


def test_csv_regression_file(tmp_path):
    prices = [1.5 * i for i in range(20)]
    path = csv(tmp_path, rows(prices, features=3), "houses.csv")
    data = load_file(path, target="y", split_seed=4)
    assert (data.kind, data.classes, data.name) == ("regression", (), "houses.csv")
    assert data.y_train.dtype == np.float32 and data.y_train.shape == (15, 1)
    assert data.x_test.shape == (5, 3) and (data.input_dim, data.output_dim) == (3, 1)
    np.testing.assert_array_equal(np.sort(all_y(data)[:, 0]), prices)


def test_csv_classification_file_with_text_labels(tmp_path):
    labels = ["cat", "dog", "bird"] * 8
    code = {"bird": 0, "cat": 1, "dog": 2}
    text = "noise,code,animal\n" + "".join(
        f"{i % 5},{code[label]},{label}\n" for i, label in enumerate(labels)
    )
    data = load_file(csv(tmp_path, text), target="animal")
    assert data.kind == "classification" and data.classes == ("bird", "cat", "dog")
    assert data.y_train.dtype == np.int32 and data.output_dim == 3
    # Each row keeps its label: the `code` feature orders the classes as they sort.
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        for index in range(3):
            assert len(np.unique(x[y == index, 1])) == 1
        assert np.all(np.diff(x[np.argsort(y), 1]) >= 0)


def test_npz_files(tmp_path):
    x = np.arange(60, dtype=np.float64).reshape(20, 3)
    labels = np.array([3, 7] * 10)
    data = load_file(npz(tmp_path, x=x, y=labels))
    assert data.kind == "classification" and data.classes == ("3", "7")
    assert set(all_y(data).tolist()) == {0, 1} and data.input_dim == 3
    targets = np.stack([x[:, 0], -x[:, 1]], axis=1)
    data = load_file(npz(tmp_path, "two.npz", x=x.astype(np.float32), y=targets))
    assert data.kind == "regression" and data.output_dim == 2
    assert data.y_test.dtype == np.float32 and data.y_test.shape == (5, 2)
    text = np.array(["no", "yes"] * 10)
    data = load_file(npz(tmp_path, "text.npz", x=x, y=text))
    assert data.classes == ("no", "yes")


@pytest.mark.parametrize(
    "labels, kind, expected_kind, classes",
    [
        ([0.5, 1.5, 2.25, 3.0] * 4, None, "regression", ()),
        ([1, 2, 10] * 4, None, "classification", ("1", "2", "10")),
        (["True", "False"] * 4, None, "classification", ("False", "True")),
        (["b", "a"] * 4, None, "classification", ("a", "b")),
        ([1, 2, 10] * 4, "regression", "regression", ()),
        ([0.0, 1.0] * 4, "classification", "classification", ("0.0", "1.0")),
    ],
    ids=["float", "int", "bool", "text", "int-as-regression", "float-as-classes"],
)
def test_kind_is_inferred_from_the_target_unless_given(
    tmp_path, labels, kind, expected_kind, classes
):
    data = load_file(csv(tmp_path, rows(labels)), target="y", kind=kind)
    assert (data.kind, data.classes) == (expected_kind, classes)
    assert data.y_train.dtype == (np.int32 if classes else np.float32)


# --- every way a file can be wrong -----------------------------------------------


def unreadable(tmp_path):
    # Reading /proc/self/mem at offset 0 fails with EIO, even for root (who could
    # read a chmod 000 file).
    path = tmp_path / "mem.csv"
    path.symlink_to("/proc/self/mem")
    return path


def folder(tmp_path):
    path = tmp_path / "folder.csv"
    path.mkdir()
    return path


def binary(tmp_path: Path, data: bytes, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def bare_npy(tmp_path):
    """What np.save writes, under an .npz name."""
    np.save(tmp_path / "bare.npy", X)
    return (tmp_path / "bare.npy").rename(tmp_path / "bare.npz")


def many_columns(tmp_path):
    header = ",".join(f"column_{j}" for j in range(30))
    return csv(tmp_path, header + "\n" + ",".join("1" * 30) + "\n")


CLASSES = ["a", "b", "c"]
X = np.ones((8, 2))
Y = np.arange(8) % 2
BAD_FILES = {
    # id: (make the file, load_file's arguments, a phrase the message holds)
    "missing": (lambda t: t / "nope.csv", {"target": "y"}, "does not exist"),
    "missing-relative": (
        lambda t: Path("sweeper-no-such-file.csv"),
        {"target": "y"},
        "does not exist (read from",
    ),
    "folder": (folder, {"target": "y"}, "is a folder: name a .csv"),
    "unreadable": (unreadable, {"target": "y"}, "cannot be read (Input/output"),
    "extension": (lambda t: csv(t, "a\n1\n", "data.txt"), {}, "extension '.txt'"),
    "no-extension": (lambda t: csv(t, "a\n1\n", "data"), {}, "has no extension"),
    "target-unset": (
        lambda t: csv(t, rows([1, 2])),
        {},
        "`task.target` must name its target column; its columns: 'f0', 'f1', 'y'",
    ),
    "target-missing": (
        lambda t: csv(t, rows([1, 2])),
        {"target": "price"},
        "has no column 'price' (`task.target`); its columns: 'f0', 'f1', 'y'",
    ),
    "target-missing-many-columns": (
        many_columns,
        {"target": "price"},
        "'column_7' and 22 more",
    ),
    "text-feature": (
        lambda t: csv(t, "a,b,y\n1,2,0\n3,red,1\n"),
        {"target": "y"},
        "holds 'red' in feature column 'b', row 2 under the header",
    ),
    "empty": (lambda t: csv(t, ""), {"target": "y"}, "is empty"),
    "blank": (lambda t: csv(t, "\n  \n"), {"target": "y"}, "is empty"),
    "header-only": (lambda t: csv(t, "a,y\n"), {"target": "y"}, "no rows of data"),
    "not-utf8": (
        lambda t: binary(t, b"a,y\n\xe9,1\n", "latin.csv"),
        {"target": "y"},
        "is not UTF-8 text",
    ),
    "row-longer-than-header": (
        lambda t: csv(t, "a,y\n1,2,3\n4,5,6\n"),
        {"target": "y"},
        "has a row with more cells than its header has names",
    ),
    "ragged": (
        lambda t: csv(t, "a,y\n1,2\n1,2,3\n"),
        {"target": "y"},
        "is not a valid CSV (pandas: Error tokenizing data",
    ),
    "target-only": (lambda t: csv(t, "y\n1\n2\n"), {"target": "y"}, "only its target"),
    "nan-feature": (
        lambda t: csv(t, "a,y\n1,0\n2,1\n,0\n"),
        {"target": "y"},
        "missing value (empty, NA or NaN) in feature column 'a', row 3",
    ),
    "inf-feature": (
        lambda t: csv(t, "a,y\n1,0\ninf,1\n"),
        {"target": "y"},
        "infinite value in feature column 'a', row 2",
    ),
    "nan-target": (
        lambda t: csv(t, "a,y\n1,0.5\n2,NaN\n"),
        {"target": "y"},
        "missing value (empty, NA or NaN) in target column 'y', row 2",
    ),
    "missing-label": (
        lambda t: csv(t, "a,y\n1,cat\n2,\n"),
        {"target": "y"},
        "missing value (empty, NA or NaN) in target column 'y', row 2",
    ),
    "inf-target": (
        lambda t: csv(t, "a,y\n1,0.5\n2,-inf\n"),
        {"target": "y"},
        "infinite value in target column 'y', row 2",
    ),
    "one-class": (
        lambda t: csv(t, rows(["cat"] * 8)),
        {"target": "y"},
        "one class only ('cat') in target column 'y'",
    ),
    "text-regression": (
        lambda t: csv(t, rows(["cat", "dog"] * 4)),
        {"target": "y", "kind": "regression"},
        "`task.kind` is regression",
    ),
    "float32-overflow": (
        lambda t: csv(t, rows([1e39, 1.0] * 4)),
        {"target": "y"},
        "beyond float32's range",
    ),
    "class-of-one-row": (
        lambda t: csv(t, rows(["cat", "dog"] * 4 + ["eel"])),
        {"target": "y"},
        "1 row of class 'eel'",
    ),
    "classes-exceed-test-rows": (
        lambda t: csv(t, rows(CLASSES * 4)),
        {"target": "y", "test_fraction": 0.15},
        "its 3 classes need a test row each",
    ),
    "classes-exceed-training-rows": (
        lambda t: csv(t, rows(CLASSES * 2)),
        {"target": "y", "test_fraction": 0.75},
        "its 3 classes need a training row each",
    ),
    "batch-exceeds-training-rows": (
        lambda t: csv(t, rows([0.5] * 12)),
        {"target": "y", "batch_size": 10},
        "9 training and 3 test rows, fewer than `task.batch_size`=10",
    ),
    "one-test-row": (
        lambda t: csv(t, rows([0.5] * 4)),
        {"target": "y"},
        "testing needs at least 2 rows",
    ),
    "bad-kind": (
        lambda t: csv(t, rows([1, 2] * 4)),
        {"target": "y", "kind": "regresion"},
        "`task.kind` must be one of ['regression', 'classification'] or unset",
    ),
    "npz-target-set": (
        lambda t: npz(t, x=X, y=Y),
        {"target": "y"},
        "unset `task.target`",
    ),
    "npz-no-y": (
        lambda t: npz(t, x=X, z=Y),
        {},
        "has no array `y` (its arrays: 'x', 'z')",
    ),
    "npz-no-x-or-y": (
        lambda t: npz(t, features=X),
        {},
        "has no array `x` or `y` (its arrays: 'features')",
    ),
    "npz-x-1d": (lambda t: npz(t, x=Y, y=Y), {}, "`x` must be 2-D [rows, features]"),
    "npz-x-text": (
        lambda t: npz(t, x=X.astype(str), y=Y),
        {},
        "features must be real numbers",
    ),
    "npz-x-no-rows": (lambda t: npz(t, x=X[:0], y=Y[:0]), {}, "has no rows"),
    "npz-x-no-features": (lambda t: npz(t, x=X[:, :0], y=Y), {}, "has no features"),
    "npz-y-length": (
        lambda t: npz(t, x=X, y=Y[:5]),
        {},
        "5 rows in `y` but 8 in `x`: they must match",
    ),
    "npz-y-3d": (
        lambda t: npz(t, x=X, y=np.ones((8, 2, 2))),
        {},
        "`y` must be [rows] or [rows, outputs]",
    ),
    "npz-y-bytes": (
        lambda t: npz(t, x=X, y=np.array([b"a", b"b"] * 4)),
        {},
        "targets must be numbers or text labels",
    ),
    "npz-object": (
        lambda t: npz(t, x=X, y=np.array(["a", 1] * 4, dtype=object)),
        {},
        "holds `y` as an object array, which sweeper never loads",
    ),
    "npz-nan-x": (
        lambda t: npz(t, x=np.where(np.eye(8, 2, -2) > 0, np.nan, X), y=Y),
        {},
        "has nan at `x[2, 0]`",
    ),
    "npz-inf-y": (
        lambda t: npz(t, x=X, y=np.where(np.arange(8) == 3, np.inf, 0.5)),
        {},
        "has inf at `y[3]`",
    ),
    "npz-several-label-columns": (
        lambda t: npz(t, x=X, y=np.stack([Y, Y], axis=1)),
        {"kind": "classification"},
        "classification takes one label per row",
    ),
    "npz-empty": (lambda t: csv(t, "", "empty.npz"), {}, "is empty: write it with"),
    "npz-bare-npy": (
        bare_npy,
        {},
        "one bare .npy array",
    ),
    "npz-text": (lambda t: csv(t, "x,y\n", "t.npz"), {}, "no zip signature"),
    "npz-bad-zip": (
        lambda t: binary(t, b"PK\x03\x04broken", "z.npz"),
        {},
        "is not a valid .npz archive",
    ),
}


@pytest.mark.parametrize("make, arguments, phrase", BAD_FILES.values(), ids=BAD_FILES)
def test_a_bad_file_fails_in_one_line_that_names_it(tmp_path, make, arguments, phrase):
    path = make(tmp_path)
    with pytest.raises(ConfigError) as raised:
        load_file(path, **arguments)
    message = str(raised.value)
    assert "\n" not in message and "\r" not in message
    assert f"{str(path)!r}" in message
    assert phrase in message
    rest = message.replace(str(path), "").replace(os.getcwd(), "")
    assert len(rest) <= MAX_MESSAGE, message


@pytest.mark.parametrize(
    "arguments, key",
    [
        ({"test_fraction": 0}, "task.test_fraction"),
        ({"test_fraction": 1.0}, "task.test_fraction"),
        ({"test_fraction": True}, "task.test_fraction"),
        ({"split_seed": -1}, "task.split_seed"),
        ({"split_seed": 2**32}, "task.split_seed"),
        ({"split_seed": 1.5}, "task.split_seed"),
        ({"batch_size": 0}, "task.batch_size"),
    ],
)
def test_a_split_setting_out_of_range_is_refused(tmp_path, arguments, key):
    path = csv(tmp_path, rows([1, 2] * 4))
    with pytest.raises(ConfigError, match=f"The value for `{key}` must be"):
        load_file(path, target="y", **arguments)


@pytest.mark.parametrize("path", [None, ""])
def test_an_unset_path_is_refused(path):
    with pytest.raises(ConfigError, match="The value for `task.path` must be the path"):
        load_file(path)


def test_a_dataset_compares_and_hashes_by_identity():
    data = load_builtin("wine")
    assert data == data and data != load_builtin("wine")
    assert {data: 1}[data] == 1


def test_the_data_layer_loads_without_tensorflow():
    code = "import sys, sweeper.data; print('tensorflow' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
