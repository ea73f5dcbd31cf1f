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
            "head": head_record(head),
            "coil": None if coil is None else coil.name,
            "conductivity_overrides": {int(k): float(v) for k, v in conductivities.items()}}


def head_record(head) -> dict:
    """Size and tissues of a HeadMesh, or of BEM Interfaces (surfaces only)."""
    if hasattr(head, "tets"):
        return {"name": head.name, "n_nodes": head.n_nodes, "n_tets": head.n_tets,
                "mean_edge_m": head.mean_edge_length, "tags": head.tissue_tags}
    return {"name": head.name, "n_facets": head.n_facets, "mean_edge_m": head.mean_edge_length,
            "tags": sorted({int(t) for t in head.tag_in})}


def provenance_record(result) -> dict:
    """A result's provenance plus its timings, dI/dt and pose, as JSON-ready data."""
    rec = dict(result.provenance)
    rec["timings_s"] = dict(result.timings)
    rec["didt_A_per_s"] = list(result.didt)
    if result.pose is not None:
        rec["matsimnibs_mm"] = result.pose.to_matsimnibs("mm").tolist()
    return rec
