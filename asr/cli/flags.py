"""Command-line flags generated from the config dataclasses, and the config a command runs with.

Every config field becomes a flag named after it (`decode.beam.beam_size` -> `--beam-size`,
plus any `aliases` in its metadata), with the field's help text and default, so the CLI
never keeps a second set of defaults. Precedence: dataclass defaults < the checkpoint's
config (decoding commands) < `--config` YAML < flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from pathlib import Path
from typing import Any

from asr.config import BEAM, GREEDY, ConfigError, DecodeConfig, ExperimentConfig, read_overrides

DEST = "cfg:"  # argparse dest prefix of generated flags: "cfg:decode.beam.alpha"
# Decode keys that only mean something to the beam search: giving one as a flag selects it.
BEAM_ONLY = ("decode.lm", "decode.lexicon", "decode.hotwords", "decode.beam.")


class UsageError(ValueError):
    """A command-line value the command cannot use (reported in one line, like the others)."""


def add_config_flags(
    parser: argparse.ArgumentParser, sections: tuple[str, ...], exclude: tuple[str, ...] = (), required: tuple[str, ...] = ()
) -> None:
    """One flag per field of each config section (one argument group per section)."""
    hints = typing.get_type_hints(ExperimentConfig)
    for section in sections:
        cls = hints[section]
        group = parser.add_argument_group(f"{section} config", (cls.__doc__ or "").split("\n\n")[0].replace("\n", " "))
        _add_fields(group, cls, f"{section}.", exclude, required)


def _add_fields(group, cls: type, prefix: str, exclude: tuple[str, ...], required: tuple[str, ...]) -> None:
    defaults, hints = cls(), typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        key, hint = prefix + field.name, hints[field.name]
        if dataclasses.is_dataclass(hint):
            _add_fields(group, hint, f"{key}.", exclude, required)
            continue
        if key in exclude:
            continue
        default = getattr(defaults, field.name)
        shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
        text = f"{field.metadata['help']} (default: {shown if shown != '' else 'none'})".replace("%", "%%")
        kwargs: dict[str, Any] = {"dest": DEST + key, "default": None, "help": text, "required": key in required}
        if "metavar" in field.metadata:
            kwargs["metavar"] = field.metadata["metavar"]
        if "choices" in field.metadata:
            kwargs.update(choices=field.metadata["choices"], metavar="{" + ",".join(map(str, field.metadata["choices"])) + "}")
        if hint is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(hint) is tuple:
            kwargs.update(action="extend", nargs="+", type=typing.get_args(hint)[0])
        else:
            kwargs["type"] = hint
            kwargs.setdefault("metavar", {int: "N", float: "X"}.get(hint, "VALUE"))
        group.add_argument("--" + field.name.replace("_", "-"), *field.metadata.get("aliases", ()), **kwargs)


def flag_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """{"section.field": value} for every generated flag the user gave."""
    return {k[len(DEST) :]: v for k, v in vars(args).items() if k.startswith(DEST) and v is not None}


def resolve_config(
    args: argparse.Namespace, base: ExperimentConfig | None = None, yaml_sections: tuple[str, ...] | None = None
) -> ExperimentConfig:
    """`base` (default: the dataclass defaults), then `args.config` (restricted to `yaml_sections`), then the flags.

    A beam-only flag (--lm, --lexicon, --hotword, --beam-size ...) without --decoder selects the
    beam search; a layer that sets the greedy decoder drops the beam settings of the layers below.
    """
    config = base or ExperimentConfig()
    for path in getattr(args, "config", None) or ():  # each file over the ones before it
        config = _apply(config, read_overrides(path, yaml_sections), str(path))
    overrides = flag_overrides(args)
    beam_only = sorted(k for k in overrides if k.startswith(BEAM_ONLY))
    if beam_only and overrides.get("decode.decoder") == GREEDY:
        raise UsageError("--lm, --lexicon, --hotword and the beam-search flags need --decoder beam")
    if beam_only and "decode.decoder" not in overrides:
        overrides["decode.decoder"] = BEAM
    return _apply(config, overrides, "")


def _apply(config: ExperimentConfig, overrides: dict[str, Any], where: str) -> ExperimentConfig:
    if overrides.get("decode.decoder") == GREEDY:
        config = dataclasses.replace(config, decode=DecodeConfig())
    try:
        return config.with_overrides(overrides)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}" if where else str(err)) from None


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The positional MODEL and --device every decoding command takes."""
    parser.add_argument("model", type=Path, help="a checkpoint made by asr train (best.pt)")
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when present)")
    parser.add_argument(
        "--config", type=Path, action="append", help="YAML with decode (and stream) sections over the model's own; repeatable, later files win"
    )
