"""TOML run configurations: ``--config FILE`` fills a command's options (the command line still
wins), and the options a run used are written back as TOML next to its results."""
from __future__ import annotations

import json
import math
import sys

import click

from ..core.checks import describe_type
from ..core.errors import FileFormatError, TmsFieldError
from ..core.files import read_utf8


def _key(param) -> str:
    """TOML key of an option: its first long name, dashes as underscores (--center-mm → center_mm)."""
    return param.opts[0].lstrip("-").replace("-", "_")


#: options whose value must be a length/amount > 0 (0 is no edge length: it used to fall back to 6 mm)
POSITIVE_KEYS = frozenset({"edge_length_mm"})


def _kind(value) -> str:
    return describe_type(value, mapping="a table")


def _show(value) -> str:
    text = ("true" if value else "false") if isinstance(value, bool) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(where: str, value, *, integer: bool = False):
    """A TOML number for a numeric option: no booleans (True is 1 in Python), finite."""
    what = "an integer" if integer else "a number"
    ok = (isinstance(value, int) if integer else isinstance(value, (int, float))) and not isinstance(value, bool)
    if not ok:
        raise FileFormatError(f"{where}: expected {what}, got {_kind(value)} {_show(value)}"
                              + (" (write a number, e.g. 1e6, not true/false or a quoted string)"
                                 if isinstance(value, (bool, str)) else ""))
    try:
        finite = math.isfinite(value)
    except OverflowError:                                 # TOML integers have no size limit here
        finite = False
    if not finite:
        raise FileFormatError(f"{where}: expected a finite number, got {_show(value)}")
    return value


def _from_toml(where: str, key: str, param, value, ctx):
    """A TOML value, type-checked, in the form the option takes on the command line.

    Raises FileFormatError naming ``where`` (file: key) for a value of the wrong type."""
    kind = param.type
    if param.multiple:
        if isinstance(value, dict):                       # conductivity = {3 = 1.654}
            items = []
            for k, v in value.items():
                _number(f"{where}.{k}", v)
                items.append(f"{k}={v!r}")
            return items
        values = value if isinstance(value, list) else [value]
        for i, v in enumerate(values):
            if not isinstance(v, str):
                raise FileFormatError(f"{where}[{i}]: expected a string like \"3=1.654\" (or write a table, "
                                      f"{key} = {{3 = 1.654}}), got {_kind(v)} {_show(v)}")
        return list(values)
    if isinstance(kind, click.types.BoolParamType):
        if not isinstance(value, bool):
            raise FileFormatError(f"{where}: expected true or false, got {_kind(value)} {_show(value)}")
        return value
    if isinstance(kind, (click.types.IntParamType, click.types.FloatParamType)):
        value = _number(where, value, integer=isinstance(kind, click.types.IntParamType))
        if key in POSITIVE_KEYS and not value > 0:
            raise FileFormatError(f"{where}: must be a number > 0, got {value!r} (e.g. {key} = 6)")
    elif isinstance(value, list):                         # center_mm = [-50, 10, 80]
        for i, v in enumerate(value):
            _number(f"{where}[{i}]", v)
        value = ",".join(repr(v) for v in value)
    elif not isinstance(value, str):
        raise FileFormatError(f"{where}: expected a string, got {_kind(value)} {_show(value)}")
    try:                                                  # choices, ranges, existing paths
        kind.convert(value, param, ctx)
    except click.BadParameter as exc:
        raise FileFormatError(f"{where}: {exc.message}") from None
    except (ValueError, TypeError, OSError) as exc:     # e.g. a path with a NUL character
        raise FileFormatError(f"{where}: invalid value {_show(value)} ({exc})") from None
    return value


def load_config(path, ctx) -> dict:
    """Option defaults from the TOML file ``path`` for ``ctx.command``: {option name: value}.

    Keys are the long option names with underscores (or dashes): ``center_mm``,
    ``edge-length-mm``. Every value is type-checked for its option; raises FileFormatError
    naming the file and key (or line) for unreadable TOML, unknown keys and wrong types."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    text = read_utf8(path, "a config file is TOML (UTF-8), e.g. as written to config.toml by a previous run")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FileFormatError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise FileFormatError(f"{path}: TOML nested too deeply to be a tmsfield config") from None
    except ValueError as exc:                             # e.g. an integer of more than 4300 digits
        raise FileFormatError(f"{path}: not a usable TOML file ({exc})") from None
    options = {_key(p): p for p in ctx.command.params if isinstance(p, click.Option) and p.name != "config"}
    out, seen = {}, {}
    for raw_key, value in data.items():
        key = raw_key.replace("-", "_")
        if key not in options:
            raise FileFormatError(f"{path}: unknown key {raw_key!r}; known: {sorted(options)}")
        if key in seen:
            raise FileFormatError(f"{path}: {key!r} given twice (as {seen[key]!r} and {raw_key!r})")
        seen[key] = raw_key
        out[options[key].name] = _from_toml(f"{path}: {raw_key}", key, options[key], value, ctx)
    return out


def read_config(ctx, param, path):
    """click callback of ``--config``: TOML keys become the command's option defaults."""
    if path is None:
        return None
    try:
        values = load_config(path, ctx)
    except TmsFieldError as exc:
        raise click.BadParameter(str(exc)) from None
    ctx.default_map = {**(ctx.default_map or {}), **values}
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

