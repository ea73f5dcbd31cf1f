"""Electrical properties of a wire coil: inductance, DC resistance, stored energy, voltage (SI).

The drive circuit sees the coil as an inductance L in series with a resistance R:
V(t) = L dI/dt + R I, stored magnetic energy W = ½ L I². Resistance is the DC value
R = ρ ℓ / A (wire length ℓ, conductor cross-section A); at TMS pulse frequencies (2–5 kHz) the
skin depth in copper (~1.2 mm at 3 kHz) is comparable to the wire size, so the AC resistance is
higher — treat R here as a lower bound.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..core.errors import CoilError
from .inductance import round_wire_gmd, self_inductance

#: resistivity of annealed copper at 20 °C (Ω·m): 1.68e-8 (CRC Handbook of Chemistry and
#: Physics, 97th ed., "Electrical resistivity of pure metals": 1.678e-8 Ω·m at 293 K)
COPPER_RESISTIVITY = 1.68e-8


@dataclasses.dataclass(frozen=True)
class CoilElectrical:
    """What a stimulator sees of a coil.

    inductance : H.   resistance : Ω (DC), or None when no conductor cross-section is known.
    wire_length : m of conductor (centre line).   wire_area : m² conductor cross-section or None.
    name : the coil's label.
    """
    inductance: float
    resistance: float | None = None
    wire_length: float | None = None
    wire_area: float | None = None
    name: str = "coil"

    def __post_init__(self):
        if not np.isfinite(self.inductance) or self.inductance <= 0:
            raise CoilError(f"coil {self.name!r}: inductance must be positive and finite, got {self.inductance} H")

    def energy(self, current: float) -> float:
        """Stored magnetic energy ½ L I² (J) at ``current`` (A)."""
        return 0.5 * self.inductance * float(current) ** 2

    def current_for_energy(self, energy: float) -> float:
        """Peak current (A) that stores ``energy`` (J): I = √(2W/L)."""
        if not np.isfinite(energy) or energy < 0:
            raise CoilError(f"energy must be a non-negative finite number of joules, got {energy}")
        return float(np.sqrt(2.0 * energy / self.inductance))

    def voltage(self, didt: float, current: float = 0.0) -> float:
        """Coil voltage (V) L dI/dt + R I for a current slope ``didt`` (A/s) at ``current`` (A);
        the resistive part is left out when the resistance is unknown."""
        return self.inductance * float(didt) + (self.resistance or 0.0) * float(current)

    def summary(self, *, didt: float | None = None, current: float | None = None) -> str:
        """Multi-line text: L, R, wire length; voltage at ``didt`` (A/s), energy at ``current`` (A)."""
        lines = [f"Coil {self.name!r}", f"  inductance      {self.inductance * 1e6:.4g} µH"]
        if self.resistance is not None:
            lines.append(f"  DC resistance   {self.resistance * 1e3:.4g} mΩ")
        if self.wire_length is not None:
            lines.append(f"  wire length     {self.wire_length:.4g} m")
        if current is not None:
            lines.append(f"  energy at {current:.4g} A   {self.energy(current):.4g} J")
        if didt is not None:
            v = self.voltage(didt, current or 0.0)
            lines.append(f"  voltage at {didt:.4g} A/s   {v:.4g} V")
        return "\n".join(lines)


def wire_length(coil) -> float:
    """Conductor length (m) of a segment coil: Σ |weight| × segment length (a segment of weight
    n stands for n turns; filaments of one conductor carry fractions that sum to one)."""
    length = np.linalg.norm(coil.segment_ends - coil.segment_starts, axis=1)
    return float(np.sum(np.abs(coil.segment_weights) * length))


def resistance(length: float, area: float, resistivity: float = COPPER_RESISTIVITY) -> float:
    """DC resistance ρ ℓ / A (Ω) of ``length`` (m) of wire with cross-section ``area`` (m²)."""
    for key, v in (("length", length), ("area", area), ("resistivity", resistivity)):
        if not np.isfinite(v) or v <= 0:
            raise CoilError(f"wire {key} must be positive and finite (SI units), got {v}")
    return resistivity * length / area


def electrical_properties(coil, *, wire_radius: float, current: str = "uniform",
               resistivity: float = COPPER_RESISTIVITY) -> CoilElectrical:
    """Electrical properties of a wire-segment coil made of round wire of ``wire_radius`` (m).

    For designs with a rectangular conductor or several filaments per conductor use
    :meth:`tmsfield.coils.windings.WoundCoil.electrical`.
    """
    round_wire_gmd(wire_radius, current)  # validates the radius
    length = wire_length(coil)
    area = np.pi * wire_radius**2
    return CoilElectrical(inductance=self_inductance(coil, wire_radius=wire_radius, current=current),
                          resistance=resistance(length, area, resistivity), wire_length=length,
                          wire_area=area, name=coil.name)
