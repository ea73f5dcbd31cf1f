"""Coil models, builders, SimNIBS coil files, placement and primary fields."""
from .builders import builtin, circular, figure8
from .coil import Coil
from .io import load, save
from .pose import CoilPose
from .primary import magnetic_field, vector_potential

__all__ = ["Coil", "CoilPose", "builtin", "circular", "figure8", "load", "save",
           "magnetic_field", "vector_potential"]
