"""Myelinated axons with the SENN structure (McNeal 1976; Reilly, Freeman & Larkin 1985).

Only the nodes of Ranvier are compartments; the myelin is a perfect insulator, so an
internode is a pure axial resistance between two nodes. With node length ``l``, internode
length ``L`` and axon (inner) diameter ``d``, neighbouring node centres are joined by
R = 4 ρi (L + l) / (π d²) (half of each node plus the internode), the same resistance NEURON
builds for node and internode sections of nseg = 1.

Defaults (mammalian, Sweeney et al. 1987 via Reilly 1998 ch. 4): fibre diameter D = 10 µm,
axon diameter d = 0.6 D, internode L = 100 D, node length 1 µm, ρi = 54.7 Ω·cm, CRRSS nodes.
For the frog SENN model use ``channel="fh", axon_ratio=0.7, node_length=2.5e-6,
resistivity=1.1`` (ρi 110 Ω·cm, McNeal 1976).
"""
from __future__ import annotations

import numpy as np

from ..core.errors import TmsFieldError
from .cable import AXON, Cable, Cells
from .channels import channel_model


def myelinated_axon(diameter: float = 10e-6, n_nodes: int = 21, *, channel="crrss",
                    axon_ratio: float = 0.6, internode_ratio: float = 100.0,
                    node_length: float = 1e-6, resistivity: float = 0.547,
                    name: str | None = None) -> Cable:
    """Straight myelinated axon along +z with node 0 at the origin.

    Parameters (SI): ``diameter`` fibre diameter D (m); ``n_nodes`` nodes of Ranvier;
    ``channel`` node membrane (name or ChannelModel); ``axon_ratio`` d/D; ``internode_ratio``
    L/D; ``node_length`` (m); ``resistivity`` axoplasm ρi (Ω·m; 0.547 = 54.7 Ω·cm).
    """
    spacing = internode_ratio * diameter + node_length
    positions = np.zeros((int(n_nodes), 3))
    positions[:, 2] = spacing * np.arange(int(n_nodes))
    return axon_through(positions, diameter, channel=channel, axon_ratio=axon_ratio,
                        node_length=node_length, resistivity=resistivity,
                        name=name or f"myelinated axon D={diameter * 1e6:g} µm")


def axon_through(nodes, diameter: float, *, channel="crrss", axon_ratio: float = 0.6,
                 node_length: float = 1e-6, resistivity: float = 0.547, name: str = "axon") -> Cable:
    """Myelinated axon with nodes of Ranvier at ``nodes`` (N, 3) m, in order; the axial
    resistance between neighbours follows the straight distance between them."""
    nodes = np.asarray(nodes, dtype=float)
    _check_axon(nodes, diameter, axon_ratio, node_length, resistivity)
    d = axon_ratio * diameter
    n = len(nodes)
    gap = np.linalg.norm(np.diff(nodes, axis=0), axis=1)  # node centre to node centre
    g_axial = np.zeros(n)
    g_axial[1:] = np.pi * d ** 2 / (4.0 * resistivity * gap)
    parent = np.arange(-1, n - 1)
    return Cable(nodes, parent, g_axial, np.pi * d * node_length, 0, (channel_model(channel),), AXON, name)


def axons_along(polylines, diameter: float = 10e-6, **options) -> list[Cells]:
    """Axons following fibre tracts: for each polyline ((P, 3) m, in order) nodes of Ranvier
    every internode_ratio·D + node_length of arc length from its start. Tracts with the same
    node count share one batch. ``options`` go to :func:`axon_through` (plus
    ``internode_ratio``). Returns a list of Cells."""
    internode_ratio = options.pop("internode_ratio", 100.0)
    spacing = internode_ratio * diameter + options.get("node_length", 1e-6)
    by_count: dict[int, list[np.ndarray]] = {}
    for i, line in enumerate(polylines):
        line = np.asarray(line, dtype=float)
        if line.ndim != 2 or line.shape[1] != 3 or len(line) < 2 or not np.isfinite(line).all():
            raise TmsFieldError(f"tract {i}: need a finite (P>=2, 3) polyline, got shape {line.shape}")
        nodes = resample_polyline(line, spacing)
        if len(nodes) < 2:
            raise TmsFieldError(f"tract {i} is shorter than one internode ({spacing * 1e3:.3g} mm)")
        by_count.setdefault(len(nodes), []).append(nodes)
    groups = []
    for count, node_sets in by_count.items():
        cable = axon_through(node_sets[0], diameter, name=f"tract axon, {count} nodes", **options)
        groups.append(Cells(cable, np.stack(node_sets)))
    return groups


def resample_polyline(line: np.ndarray, spacing: float) -> np.ndarray:
    """Points every ``spacing`` (m) of arc length along ``line`` (P, 3), from its start."""
    seg = np.linalg.norm(np.diff(line, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    s = np.arange(0.0, arc[-1] + 1e-12 * spacing, spacing)
    return np.stack([np.interp(s, arc, line[:, k]) for k in range(3)], axis=1)


def _check_axon(nodes, diameter, axon_ratio, node_length, resistivity):
    if nodes.ndim != 2 or nodes.shape[1] != 3 or len(nodes) < 2:
        raise TmsFieldError(f"an axon needs at least 2 nodes as an (N, 3) array, got {nodes.shape}")
    if not np.isfinite(nodes).all():
        raise TmsFieldError("axon node positions contain NaN/inf")
    for label, value in (("diameter", diameter), ("axon_ratio", axon_ratio),
                         ("node_length", node_length), ("resistivity", resistivity)):
        if not (np.isfinite(value) and value > 0):
            raise TmsFieldError(f"axon {label} must be positive, got {value!r}")
    gap = np.linalg.norm(np.diff(nodes, axis=0), axis=1)
    if np.any(gap <= 0):
        raise TmsFieldError(f"axon nodes {int(np.argmin(gap))} and {int(np.argmin(gap)) + 1} coincide")
