"""The package's layout is its data flow: no import cycle, no import up the layers.

config, contract, theory -> data -> train -> record -> sweep -> report -> cli, read
from every module's imports (function-level ones included) with Python's own parser.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "sweeper"
# Layers from the bottom up; a module may import its own layer's package and lower ones.
LAYERS = [("config", "contract", "theory"), ("data",), ("train",), ("record",)]
LAYERS += [("sweep", "keras")]
LAYERS += [("report",)]
LAYERS += [("results",), ("cli",)]
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def modules() -> dict:
    """sweeper.* module name -> the sweeper.* modules it imports."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        imports = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imports |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imports |= {node.module} | {
                    f"{node.module}.{a.name}" for a in node.names
                }
        found[name] = {i for i in imports if i.startswith("sweeper.")}
    return {name: {i for i in deps if i in found} for name, deps in found.items()}


def layer(module: str) -> str | None:
    part = module.split(".")[1] if module.count(".") else None
    return part if part in RANK else None


def test_every_subpackage_has_a_layer():
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert subpackages | {"contract", "results", "theory"} == set(RANK)


def test_no_import_runs_up_or_sideways():
    wrong = [
        f"{module} imports {dep}"
        for module, deps in modules().items()
        for dep in deps
        if layer(module) and layer(dep) and layer(dep) != layer(module)
        if RANK[layer(dep)] >= RANK[layer(module)]
    ]
    assert wrong == []


def test_no_import_cycle():
    graph = modules()
    done, path = set(), []

    def visit(module):
        assert module not in path, " -> ".join(path[path.index(module) :] + [module])
        if module in done:
            return
        path.append(module)
        for dep in graph[module]:
            if dep != module and not module.startswith(dep + "."):  # a package's face
                visit(dep)
        path.pop()
        done.add(module)

    for module in graph:
        visit(module)


@pytest.mark.parametrize(
    "home, frameworks",
    [
        (("train", "keras"), ("tensorflow", "keras")),
        (("cli",), ("hydra", "omegaconf")),
    ],
)
def test_only_one_subpackage_imports_each_framework(home, frameworks):
    """TensorFlow stays in train/ (and keras/, the door of a user's own `fit`),
    Hydra at the door (cli/; and the plugin, outside)."""
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name in home:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in frameworks, (path, name)


def test_every_subpackage_is_in_the_wheel():
    """pyproject.toml lists the packages a non-editable install gets: all of them."""
    import tomllib

    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    found = {
        ".".join(path.parent.relative_to(PACKAGE.parent).parts)
        for path in PACKAGE.rglob("__init__.py")
    }
    assert found <= listed, found - listed
