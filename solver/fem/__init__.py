"""Finite-element solver: Lagrange elements (P1, P2), assembly, AMG-CG, FEMSolver."""
