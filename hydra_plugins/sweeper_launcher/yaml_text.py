"""`OmegaConf.to_yaml`'s text, each unchanged block of it reused from the job before.

A sweep's jobs write three `.hydra/` files each, and their configs differ in a few
values (the job's number, folder, overrides, group choices); dumping them in full was
most of the parent's work per job. Block-style YAML of a mapping is its entries' texts
one after another, and an entry's text is a function of its key, its value and its
depth alone (indentation is two spaces a level; `to_container` makes fresh dicts and
lists, so PyYAML writes no anchors). So each entry's text is kept, keyed by its depth
and the `repr` of its key and value (`repr` tells 1, 1.0, True and "1" apart, as YAML
does); an entry not seen before is split into its own entries, down to the values
that changed. tests/test_yaml_text.py holds it to `OmegaConf.to_yaml`, byte for byte.

The dumper OmegaConf uses is private (`omegaconf._utils`): without it, this is
`OmegaConf.to_yaml` itself.
"""

import yaml
from omegaconf import OmegaConf

try:
    from omegaconf._utils import get_omega_conf_dumper
except ImportError:  # pragma: no cover - an OmegaConf without it
    get_omega_conf_dumper = None

MAX_TEXTS = 4096  # kept entry texts; past this the store starts again, empty
_texts: dict[tuple, str | None] = {}


def to_yaml(cfg) -> str:
    """`OmegaConf.to_yaml(cfg)`: a DictConfig or ListConfig, interpolations kept."""
    if get_omega_conf_dumper is None:
        return OmegaConf.to_yaml(cfg)
    container = OmegaConf.to_container(cfg, resolve=False, enum_to_str=True)
    if not isinstance(container, dict) or not container:
        return _dump(container)
    return "".join(_entry(0, key, value) for key, value in container.items())


def _entry(depth: int, key, value) -> str:
    """The text of `key: value` in a mapping `depth` levels deep."""
    found = (depth, repr(key), repr(value))
    text = _texts.get(found)
    if text is not None:
        return text
    head = _head(depth, key) if isinstance(value, dict) and value else None
    if head is not None:
        text = head + "".join(_entry(depth + 1, k, v) for k, v in value.items())
    else:
        text = _lines_after(_dump(_nest(depth, {key: value})), depth)
    _keep(found, text)
    return text


def _head(depth: int, key) -> str | None:
    """The line that opens a non-empty mapping's entry, `key:`; None for a key YAML
    writes as `? key` (a long or multi-line one), whose first inner entry shares the
    line after it."""
    found = (depth, repr(key), None)
    if found not in _texts:
        text = _lines_after(_dump(_nest(depth, {key: {"_": None}})), depth)
        inner = "  " * (depth + 1) + "_: null\n"  # the placeholder's own line
        split = text.endswith("\n" + inner) and not text.lstrip().startswith("?")
        _keep(found, text[: -len(inner)] if split else None)
    return _texts[found]


def _keep(found: tuple, text: str | None) -> None:
    if len(_texts) >= MAX_TEXTS:
        _texts.clear()
    _texts[found] = text


def _nest(depth: int, mapping: dict) -> dict:
    """`mapping` `depth` levels deep, under one-key mappings."""
    for _ in range(depth):
        mapping = {"_": mapping}
    return mapping


def _lines_after(text: str, lines: int) -> str:
    for _ in range(lines):
        text = text[text.index("\n") + 1 :]
    return text


def _dump(data) -> str:
    """yaml.dump as OmegaConf.to_yaml calls it."""
    return yaml.dump(
        data,
        default_flow_style=False,
        allow_unicode=True,
        sort_keys=False,
        Dumper=get_omega_conf_dumper(),
    )
