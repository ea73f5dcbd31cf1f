"""Small argument checks shared across the package (MNE's ``_check_option`` style)."""
from __future__ import annotations

from .errors import TmsFieldError


def describe_type(value, *, mapping: str = "an object") -> str:
    """The kind of a parsed TOML/JSON ``value`` for error messages ("a number", "an array", ...);
    ``mapping`` names a dict in the format's own words (TOML: "a table", JSON: "an object")."""
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return mapping
    return f"a {type(value).__name__}"                 # TOML dates and times


def check_choice(value, choices, name: str, *, error: type[Exception] = TmsFieldError):
    """``value`` if it is one of ``choices``, else ``error`` (a TmsFieldError unless given)
    saying "``name`` must be one of (...), got 'value'". Returns ``value`` unchanged."""
    options = tuple(choices)
    try:
        if value in options:
            return value
    except TypeError:            # an unhashable value tested against a dict's keys
        pass
    raise error(f"{name} must be one of ({', '.join(repr(c) for c in options)}), got {value!r}")
