"""Small argument checks shared across the package (MNE's ``_check_option`` style)."""
from __future__ import annotations

from .errors import TmsFieldError


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
