"""Finite-element solver: P1 assembly, AMG-CG, FEMSolver."""
from .solver import FEMSolver

__all__ = ["FEMSolver"]
