"""Coil models, builders, SimNIBS coil files, flexible coils and their fit to the scalp, placement,
primary fields, inductance and designs."""
from .builders import builtin, circular, double_cone, figure8, h_coil
from .coil import Coil
from .designs import circular_design, figure8_design
from .electrical import CoilElectrical, electrical_properties, resistance
from .flexible_fit import FitOptions, FlexibleFit, fit_to_scalp
from .inductance import mutual_inductance, self_inductance
from .io import load, save
from .neuronavigation import read_neuronavigation, write_brainsight, write_localite
from .pose import CoilPose
from .primary import magnetic_field, vector_potential
from .windings import WireCrossSection, WoundCoil

__all__ = [
    "Coil",
    "CoilElectrical",
    "CoilPose",
    "FitOptions",
    "FlexibleFit",
    "WireCrossSection",
    "WoundCoil",
    "builtin",
    "circular",
    "circular_design",
    "double_cone",
    "electrical_properties",
    "figure8",
    "figure8_design",
    "fit_to_scalp",
    "h_coil",
    "load",
    "magnetic_field",
    "mutual_inductance",
    "resistance",
    "save",
    "self_inductance",
    "read_neuronavigation",
    "vector_potential",
    "write_brainsight",
    "write_localite",
]
