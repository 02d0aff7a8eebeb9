"""Every job's config of a sweep, composed by Hydra once per set of group choices.

Hydra composes each job of a sweep from scratch (defaults list, YAML merges, schema
checks), the slowest part of starting a big sweep. Jobs that choose the same
config-group options differ only in plain `key=value` overrides, which Hydra applies
to the composed config as the last step. So here the first job of each set of group
choices is composed by Hydra, and its siblings are copies of it with their own value
overrides applied by Hydra's own function and their overrides recorded as Hydra
records them. Any other override (`+key`, `++key`, `~key`, `hydra.*`, a dict or list
value) sends its job through Hydra's full composition. tests/test_compose.py checks
that every config equals Hydra's own, node for node.

The two functions this takes from Hydra are private (sweeper.cli.hydra_internals):
without them every job is composed by Hydra in full, its public path.
"""

import pickle
from typing import Sequence

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from omegaconf import DictConfig, open_dict

from sweeper.cli.hydra_internals import CONFIG_LOADER


class SweepComposer:
    """Job configs of one sweep; `master` is the sweep's config, as launchers get it."""

    def __init__(self, config_loader, master: DictConfig):
        self._loader = config_loader
        self._master = master
        self._parser = OverridesParser.create()
        self._groups = set(
            master.hydra.runtime.choices.keys()
        )  # e.g. init, hydra/launcher
        self._templates: dict = {}  # group choices and value keys -> composed config
        self.full = 0  # jobs composed by Hydra in full

    def compose(self, overrides: Sequence[str]) -> DictConfig:
        """The config Hydra's `load_sweep_config` would compose for these overrides."""
        parsed = self._parser.parse_overrides(list(overrides))
        key = self._template_key(parsed)
        if key is None or key not in self._templates:
            self.full += 1
            config = self._loader.load_sweep_config(self._master, list(overrides))
            if key is not None:
                self._templates[key] = pickle.dumps(config)
            return config
        # A pickled config loads in less than half the time of a deep copy, with the
        # same node types, flags and schema.
        apply_overrides, get_overrides_dirname = CONFIG_LOADER
        config = pickle.loads(self._templates[key])
        values = [o for o in parsed if o.key_or_group not in self._groups]
        apply_overrides(values, config)
        naming = config.hydra.job.config.override_dirname
        with open_dict(config.hydra):
            config.hydra.overrides.task = [o.input_line for o in parsed]
            config.hydra.job.override_dirname = get_overrides_dirname(
                overrides=parsed,
                kv_sep=naming.kv_sep,
                item_sep=naming.item_sep,
                exclude_keys=naming.exclude_keys,
            )
        return config

    def _template_key(self, parsed: list[Override]):
        """What a job shares with siblings it may be copied from; None: compose it."""
        if CONFIG_LOADER is None:
            return None  # Hydra's public path only: every job composed in full
        groups, values = [], []
        for override in parsed:
            plain = (
                override.type == OverrideType.CHANGE
                and override.package is None
                and not override.is_hydra_override()
                and not isinstance(override.value(), (dict, list))
            )
            if not plain:
                return None
            if override.key_or_group in self._groups:
                groups.append((override.key_or_group, override.value()))
            else:
                values.append(override.key_or_group)
        return tuple(groups), tuple(values)
