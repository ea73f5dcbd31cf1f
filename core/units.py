"""Length units at the edges of the package. Everything inside is SI (metres)."""
from __future__ import annotations

from .errors import TmsFieldError

MU0_OVER_4PI = 1e-7  # vacuum permeability / 4π (T·m/A), classical SI value

LENGTH_SCALE = {"m": 1.0, "mm": 1e-3, "cm": 1e-2}


def length_scale(units: str) -> float:
    """Factor that converts a length in ``units`` ("m", "mm", "cm") to metres."""
    try:
        return LENGTH_SCALE[units]
    except KeyError:
        raise TmsFieldError(f"unknown length unit {units!r}; use one of {sorted(LENGTH_SCALE)}") from None
