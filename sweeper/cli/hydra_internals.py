"""The private Hydra functions sweeper uses, each guarded, with a public fallback.

Hydra's `_internal` modules may change in any release. Each private name sweeper uses
is imported here, and only here, inside a guard: when it is missing (or
SWEEPER_PUBLIC_HYDRA=1 forces it), sweeper takes Hydra's public path instead, which
gives the same results, more slowly (tests/test_hydra_internals.py runs a sweep both
ways). Callers test a name for None.
"""

import argparse
import os

FORCED = os.environ.get("SWEEPER_PUBLIC_HYDRA", "") not in ("", "0")


def _private(import_names):
    """`import_names()`'s result, or None when forced off or no longer in Hydra."""
    if FORCED:
        return None
    try:
        return import_names()
    except (ImportError, AttributeError):
        return None


def _config_loader():
    from hydra._internal.config_loader_impl import (
        ConfigLoaderImpl,
        get_overrides_dirname,
    )

    return ConfigLoaderImpl._apply_overrides_to_config, get_overrides_dirname


def _basic_sweeper():
    from hydra._internal.core_plugins.basic_sweeper import (
        BasicSweeper,
        BasicSweeperConf,
    )

    return BasicSweeper, BasicSweeperConf


def _args_parser():
    from hydra._internal.utils import get_args_parser

    return get_args_parser


# (apply_overrides_to_config, get_overrides_dirname): copying a composed config for a
# sibling job; fallback: Hydra composes every job in full.
CONFIG_LOADER = _private(_config_loader)
_GET_ARGS_PARSER = _private(_args_parser)


def basic_sweeper():
    """(BasicSweeper, BasicSweeperConf), for hydra/sweeper=batched without Hydra's
    second composition of every job; None: Hydra's basic sweeper itself is used.

    Looked up at each call: Hydra's plugin scan executes its plugin modules again,
    which makes new classes of them, and a subclass must derive from the current one.
    """
    return _private(_basic_sweeper)


def args_parser() -> argparse.ArgumentParser:
    """Hydra's own command-line grammar, or the same flags declared here."""
    if _GET_ARGS_PARSER is not None:
        return _GET_ARGS_PARSER()
    parser = argparse.ArgumentParser(add_help=False)
    for flags in (("--help", "-h"), ("--hydra-help",), ("--resolve",), ("--run", "-r")):
        parser.add_argument(*flags, action="store_true")
    parser.add_argument("--multirun", "-m", action="store_true")
    parser.add_argument("--shell-completion", "-sc", action="store_true")
    parser.add_argument("--cfg", "-c", choices=["job", "hydra", "all"])
    parser.add_argument("--info", "-i", nargs="?", const="all")
    for flags in (
        ("--package", "-p"),
        ("--config-path", "-cp"),
        ("--config-name", "-cn"),
        ("--config-dir", "-cd"),
        ("--experimental-rerun",),
    ):
        parser.add_argument(*flags)
    parser.add_argument("--version", action="store_true")
    parser.add_argument("overrides", nargs="*")
    return parser
