"""Placement optimisation by reciprocity and the auxiliary dipole method (ADM).

One FEM solve per target direction gives the magnetic field of a unit current dipole at the
target (plus the volume currents it drives); the field E·d that *any* coil placement induces
at the target is then a sum over the coil's dipoles (or wire segments) of that field
(:mod:`.reciprocity`). Resampling the coil on a polar grid makes all handle rotations at a
position one circular cross-correlation (:mod:`.adm`). :func:`optimize_placement` searches
scalp positions × handle angles and verifies the winner with a full solve.
"""
from .adm import AuxiliaryCoil, PolarGrid
from .placement import PlacementResult, optimize_placement
from .positions import ScalpPositions, scalp_positions
from .reciprocity import ReciprocityField

__all__ = [
           "AuxiliaryCoil",
           "PlacementResult",
           "PolarGrid",
           "ReciprocityField",
           "ScalpPositions",
           "optimize_placement",
           "scalp_positions",
]
