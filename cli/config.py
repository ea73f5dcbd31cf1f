"""TOML run configurations: ``--config FILE`` fills a command's options (the command line still
wins), and the options a run used are written back as TOML next to its results."""
from __future__ import annotations

import json
import sys

import click


def _key(param) -> str:
    """TOML key of an option: its first long name, dashes as underscores (--center-mm → center_mm)."""
    return param.opts[0].lstrip("-").replace("-", "_")


def _from_toml(param, value):
    """A TOML value in the form the option takes on the command line."""
    if param.multiple:
        if isinstance(value, dict):                       # conductivity = {3 = 1.654}
            return [f"{k}={v}" for k, v in value.items()]
        return [str(v) for v in (value if isinstance(value, list) else [value])]
    if isinstance(value, list):                           # center_mm = [-50, 10, 80]
        return ",".join(str(v) for v in value)
    return value


def read_config(ctx, param, path):
    """click callback of ``--config``: TOML keys become the command's option defaults."""
    if path is None:
        return None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise click.BadParameter(f"{path}: cannot read TOML ({exc})") from None
    options = {_key(p): p for p in ctx.command.params if isinstance(p, click.Option) and p.name != "config"}
    unknown = sorted(set(data) - set(options))
    if unknown:
        raise click.BadParameter(f"{path}: unknown key(s) {unknown}; known: {sorted(options)}")
    ctx.default_map = {**(ctx.default_map or {}),
                       **{options[k].name: _from_toml(options[k], v) for k, v in data.items()}}
    return path


def config_option(command):
    """Decorator adding ``--config FILE`` to a click command."""
    return click.option("--config", type=click.Path(exists=True, dir_okay=False), callback=read_config,
                        is_eager=True, expose_value=False,
                        help="TOML file of options (keys as the long option names, e.g. center_mm = "
                             "[-50, 10, 80]); options given on the command line win.")(command)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)      # a TOML basic string


def config_text(ctx, *, skip=("quiet",)) -> str:
    """The options of this run (``ctx.params``) as TOML that ``--config`` reads back."""
    names = {p.name: _key(p) for p in ctx.command.params if isinstance(p, click.Option)}
    lines = [f"# tmsfield {ctx.info_name}: the options of this run (tmsfield {ctx.info_name} --config FILE)"]
    for name, value in ctx.params.items():
        if value is None or names.get(name) in skip or name not in names:
            continue
        if isinstance(value, tuple) and not value:
            continue
        lines.append(f"{names[name]} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"

