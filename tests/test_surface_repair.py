"""repair_surfaces: crossing and too-close nested surfaces made nested with a minimum gap by
local, smooth inward moves. Expectations from the geometry built here: a bump of known height
pushed through the outer sphere, a patch brought within 0.3 mm of it."""
from __future__ import annotations

import numpy as np
import pytest

import tmsfield as tf
from tmsfield.core.aabb import TriangleTree
from tmsfield.core.errors import MeshError
from tmsfield.head_models.from_surfaces import nested_surfaces
from tmsfield.head_models.surface_repair import repair_surfaces

R_IN, R_OUT, GAP = 0.080, 0.085, 0.001


@pytest.fixture(scope="module")
def crossing():
    """Spheres of 80 and 85 mm; the inner one with a smooth 9 mm bump at +z (4 mm through the
    outer) and a patch at +x pushed out to 84.7 mm (0.3 mm inside it)."""
    (vi, fi), (vo, fo) = tf.head_models.sphere_surfaces(radii=(R_IN, R_OUT), edge_length=0.005)
    unit = vi / np.linalg.norm(vi, axis=1, keepdims=True)
    bump = 0.009 * np.cos(np.clip(np.arccos(unit[:, 2]) / 0.35, 0, np.pi / 2)) ** 2      # 20° cap
    patch = np.where(np.arccos(np.clip(unit[:, 0], -1, 1)) < 0.2, 0.0047, 0.0)          # to 84.7 mm
    return [(unit * (R_IN + np.maximum(bump, patch))[:, None], fi), (vo, fo)]


def test_crossing_surfaces_are_refused_then_repaired(crossing):
    with pytest.raises(MeshError, match="intersect or are not nested"):
        nested_surfaces(crossing)
    repaired, report = repair_surfaces(crossing, min_gap=GAP)
    nested_surfaces(repaired)                                          # passes the checks now
    (vi, fi), (vo, fo) = repaired
    depth = TriangleTree(vo, fo).signed_distance(vi)
    assert depth.max() <= -GAP + 1e-7                                  # the gap holds everywhere
    np.testing.assert_array_equal(vo, crossing[1][0])                  # the outer surface never moves
    before = crossing[0][0]
    move = np.linalg.norm(vi - before, axis=1)
    needed = TriangleTree(vo, fo).signed_distance(before) + GAP        # > 0: what each vertex lacks
    assert move.max() <= needed.max() * 1.15 + 2e-4                    # no vertex moved further than needed
    far = np.linalg.norm(before[:, None] - before[needed > 0][None], axis=2).min(axis=1) > 0.016
    assert far.sum() > 0.8 * len(before) and move[far].max() == 0.0    # away from the trouble, nothing moves
    assert report[0].moved == int((move > 0).sum()) and report[1].moved == 0
    assert report[0].largest == pytest.approx(move.max()) and "moved inwards" in str(report[0])


def test_repair_is_smooth(crossing):
    """Neighbouring vertices move by similar amounts: no step larger than the taper allows
    (the largest move over the falloff, three edge lengths ~ 15 mm, per 5 mm edge)."""
    (vi, fi), _ = repair_surfaces(crossing, min_gap=GAP)[0]
    move = np.linalg.norm(vi - crossing[0][0], axis=1)
    edges = np.unique(np.sort(fi[:, [[0, 1], [1, 2], [2, 0]]].reshape(-1, 2), axis=1), axis=0)
    length = np.linalg.norm(crossing[0][0][edges[:, 0]] - crossing[0][0][edges[:, 1]], axis=1)
    step = np.abs(move[edges[:, 0]] - move[edges[:, 1]]) / length
    assert step.max() < 1.5 * move.max() / 0.012, step.max()


def test_outer_surface_inside_the_inner_is_named():
    (vi, fi), (vo, fo) = tf.head_models.sphere_surfaces(radii=(R_IN, R_OUT), edge_length=0.008)
    with pytest.raises(MeshError, match="innermost first"):
        repair_surfaces([(vo, fo), (vi, fi)], min_gap=GAP)
