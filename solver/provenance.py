"""Provenance records attached to results: versions and inputs."""
from __future__ import annotations

import importlib.metadata
import platform

PACKAGES = ("tmsfield", "numpy", "scipy", "pyamg", "fmm3dpy", "meshio", "gmsh")


def versions() -> dict[str, str]:
    """Installed versions of tmsfield and its numerical dependencies."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def base_provenance(head, coil, conductivities) -> dict:
    """Inputs of a solve: head, coil and conductivity overrides, with versions."""
    return {"versions": versions(),
            "head": {"name": head.name, "n_nodes": head.n_nodes, "n_tets": head.n_tets,
                     "mean_edge_m": head.mean_edge_length, "tags": head.tissue_tags},
            "coil": coil.name,
            "conductivity_overrides": {int(k): float(v) for k, v in conductivities.items()}}
