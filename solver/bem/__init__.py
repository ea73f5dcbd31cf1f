"""Charge-based boundary-element solver (BEM) with FMM far fields and exact near fields."""
from ..results.surface import SurfaceFieldResult
from .interfaces import Interfaces
from .solver import BEMSolver

__all__ = ["BEMSolver", "Interfaces", "SurfaceFieldResult"]
