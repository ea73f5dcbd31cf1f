"""Compartmental cable models as data, and placed copies of them.

A :class:`Cable` is one cell's electrical tree in its own frame; :class:`Cells` is K copies
of one Cable placed in a head (same tree, own positions), which the engine integrates as a
batch.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ..core.errors import TmsFieldError
from .channels import ChannelModel

#: SWC structure identifiers used for ``Cable.kind``
SOMA, AXON, DENDRITE, APICAL = 1, 2, 3, 4


@dataclasses.dataclass(frozen=True, eq=False)
class Cable:
    """Compartmental model of one cell (SI units).

    Attributes
    ----------
    positions : (N, 3) compartment centres in the cell's own frame (m).
    parent : (N,) parent compartment, -1 for the root; Hines order (parent[i] < i, root 0).
    g_axial : (N,) axial conductance between compartment i and its parent (S); 0 at the root.
    area : (N,) membrane area of each compartment (m²).
    channel : (N,) index into ``channels`` for each compartment.
    channels : channel models (the membrane of each compartment, with its capacitance).
    kind : (N,) SWC structure type (1 soma, 2 axon, 3 dendrite, 4 apical dendrite).
    name : label for summaries.
    """
    positions: np.ndarray
    parent: np.ndarray
    g_axial: np.ndarray
    area: np.ndarray
    channel: np.ndarray
    channels: tuple
    kind: np.ndarray
    name: str = "cable"

    def __post_init__(self):
        set_ = functools.partial(object.__setattr__, self)
        set_("positions", np.ascontiguousarray(self.positions, dtype=float).reshape(-1, 3))
        n = len(self.positions)
        for field, dtype in (("parent", np.int64), ("g_axial", float), ("area", float),
                             ("channel", np.int64), ("kind", np.int64)):
            value = np.ascontiguousarray(np.broadcast_to(getattr(self, field), (n,)), dtype=dtype)
            set_(field, value)
        set_("channels", tuple(self.channels))
        _check_cable(self)

    @property
    def n(self) -> int:
        """Number of compartments."""
        return len(self.positions)

    @property
    def capacitance(self) -> np.ndarray:
        """Membrane capacitance of each compartment (F), shape (N,)."""
        cm = np.array([c.cm for c in self.channels])
        return cm[self.channel] * self.area

    @property
    def excitable(self) -> np.ndarray:
        """Whether each compartment has an excitable membrane (where spikes are detected)."""
        return np.array([c.excitable for c in self.channels])[self.channel]

    @property
    def v_rest(self) -> float:
        """Resting potential shared by all compartments (V)."""
        return self.channels[0].v_rest

    def place(self, origins, directions=None, *, up=(0.0, 0.0, 1.0), azimuth=None) -> Cells:
        """K copies of this cable: rotate so that the local ``up`` axis points along
        ``directions`` (K, 3) (unrotated if None), spin by ``azimuth`` (K,) radians about that
        axis, then translate the local origin to ``origins`` (K, 3) m."""
        origins = np.atleast_2d(np.asarray(origins, dtype=float))
        k = len(origins)
        rot = np.broadcast_to(np.eye(3), (k, 3, 3))
        if directions is not None:
            rot = rotations_onto(np.asarray(up, float), np.atleast_2d(np.asarray(directions, float)), k)
        if azimuth is not None:
            axis = rot @ (np.asarray(up, float) / np.linalg.norm(up))
            rot = axis_rotations(axis, np.broadcast_to(np.asarray(azimuth, float), (k,))) @ rot
        positions = np.einsum("kij,nj->kni", rot, self.positions) + origins[:, None, :]
        return Cells(self, positions)


@dataclasses.dataclass(frozen=True, eq=False)
class Cells:
    """K placed copies of one :class:`Cable`: ``positions`` (K, N, 3) in metres."""
    cable: Cable
    positions: np.ndarray

    def __post_init__(self):
        pos = np.asarray(self.positions, dtype=float)
        if pos.ndim == 2:
            pos = pos[None]
        if pos.ndim != 3 or pos.shape[1:] != (self.cable.n, 3):
            raise TmsFieldError(f"cell positions must have shape (K, {self.cable.n}, 3), got {pos.shape}")
        bad = ~np.isfinite(pos).all(axis=(1, 2))
        if bad.any():
            raise TmsFieldError(f"cell {int(np.flatnonzero(bad)[0])} of {self.cable.name!r} has "
                                "NaN/inf compartment positions")
        object.__setattr__(self, "positions", np.ascontiguousarray(pos))

    @property
    def n_cells(self) -> int:
        return len(self.positions)

    @classmethod
    def of(cls, cable: Cable) -> Cells:
        """The cable itself as a single cell, at its own positions."""
        return cls(cable, cable.positions[None])


def as_cell_groups(cells) -> list[Cells]:
    """Normalise a Cable, a Cells or a sequence of them to a list of Cells."""
    if isinstance(cells, Cable):
        return [Cells.of(cells)]
    if isinstance(cells, Cells):
        return [cells]
    try:
        groups = [g for item in cells for g in as_cell_groups(item)]
    except TypeError:
        raise TmsFieldError(f"cells must be a Cable, Cells or a list of them, got {type(cells).__name__}") from None
    if not groups:
        raise TmsFieldError("no cells given")
    return groups


def rotations_onto(up: np.ndarray, directions: np.ndarray, k: int) -> np.ndarray:
    """Rotation matrices (K, 3, 3) taking unit vector ``up`` onto each of ``directions``."""
    directions = np.broadcast_to(directions, (k, 3))
    norms = np.linalg.norm(directions, axis=1)
    if not np.all(np.isfinite(norms)) or np.any(norms == 0):
        raise TmsFieldError("cell directions must be finite, non-zero vectors")
    a = up / np.linalg.norm(up)
    b = directions / norms[:, None]
    v = np.cross(a, b)
    c = b @ a
    vx = np.zeros((k, 3, 3))
    vx[:, 0, 1], vx[:, 0, 2], vx[:, 1, 2] = -v[:, 2], v[:, 1], -v[:, 0]
    vx -= vx.transpose(0, 2, 1)
    rot = np.eye(3) + vx + vx @ vx / (1.0 + np.where(c > -1 + 1e-12, c, 1.0))[:, None, None]
    flip = c <= -1 + 1e-12   # antiparallel: rotate by π about any axis normal to ``up``
    if flip.any():
        normal = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])
        normal /= np.linalg.norm(normal)
        rot[flip] = 2.0 * np.outer(normal, normal) - np.eye(3)
    return rot


def axis_rotations(axes: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rotations (K, 3, 3) by ``angles`` (K,) about unit ``axes`` (K, 3) (Rodrigues)."""
    k = np.zeros((len(axes), 3, 3))
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -axes[:, 2], axes[:, 1], -axes[:, 0]
    k -= k.transpose(0, 2, 1)
    s, c = np.sin(angles)[:, None, None], np.cos(angles)[:, None, None]
    return np.eye(3) + s * k + (1 - c) * k @ k


def _check_cable(cable: Cable) -> None:
    n = cable.n
    name = cable.name
    if n == 0:
        raise TmsFieldError(f"cable {name!r} has no compartments")
    if not np.isfinite(cable.positions).all():
        raise TmsFieldError(f"cable {name!r}: NaN/inf in compartment positions")
    parent = cable.parent
    if parent[0] != -1 or np.any(parent[1:] < 0):
        raise TmsFieldError(f"cable {name!r}: compartment 0 must be the only root (parent -1)")
    if np.any(parent[1:] >= np.arange(1, n)):
        raise TmsFieldError(f"cable {name!r}: compartments are not in Hines order (parent < child)")
    if not (np.isfinite(cable.area).all() and np.all(cable.area > 0)):
        raise TmsFieldError(f"cable {name!r}: membrane areas must be positive and finite")
    g = cable.g_axial[1:]
    if not (np.isfinite(g).all() and np.all(g > 0)):
        i = 1 + int(np.flatnonzero(~(np.isfinite(g) & (g > 0)))[0])
        raise TmsFieldError(f"cable {name!r}: axial conductance of compartment {i} must be positive "
                            "(zero-length or zero-diameter segment?)")
    if not all(isinstance(c, ChannelModel) for c in cable.channels):
        raise TmsFieldError(f"cable {name!r}: channels must be ChannelModel instances")
    if np.any(cable.channel < 0) or np.any(cable.channel >= len(cable.channels)):
        raise TmsFieldError(f"cable {name!r}: channel index out of range")
    rests = {c.v_rest for c in cable.channels}
    if len(rests) > 1:
        raise TmsFieldError(f"cable {name!r}: all channel models must share one resting potential, "
                            f"got {sorted(rests)} V")
