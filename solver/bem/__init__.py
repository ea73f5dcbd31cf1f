"""Charge-based boundary-element solver (BEM) with FMM far fields and exact near fields."""
from .interfaces import Interfaces
from .solver import BEMSolver
from ..results.surface import SurfaceFieldResult

__all__ = ["BEMSolver", "Interfaces", "SurfaceFieldResult"]
