"""Half-value depth d½ of a FieldResult (Deng, Lisanby & Peterchev, Brain Stimul. 2013) and the
exact point-to-surface distances it rests on."""
import numpy as np
import pytest

import tmsfield as tf
from tmsfield.core.aabb import TriangleTree
from tmsfield.core.errors import TmsFieldError
from tmsfield.head_models.surfaces import outer_boundary, point_distances
from tmsfield.solver.results import FieldResult


def synthetic(head, magnitude) -> FieldResult:
    """A FieldResult on ``head`` whose |E| per tetrahedron is ``magnitude`` (M,), no solver behind it."""
    E = np.asarray(magnitude)[:, None] * np.array([0.0, 0.6, 0.8])
    return FieldResult(head=head, E=E, recover=None, native=None, interpolation="element", phi=None, dadt=None,
                       unknowns=None, sigma=np.ones(head.n_tets))


def test_point_distances_against_a_dense_sampling():
    rng = np.random.default_rng(3)
    corners = rng.normal(size=(200, 3, 3))
    points = rng.normal(size=(200, 3)) * 2              # above the faces, beyond edges and corners
    exact = point_distances(points, corners[:, None])[:, 0]
    n = 200
    i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    keep = i + j <= n
    w = np.stack([n - i[keep] - j[keep], i[keep], j[keep]], axis=1) / n
    samples = np.einsum("sk,fkd->fsd", w, corners)      # (200 triangles, s, 3)
    sampled = np.linalg.norm(samples - points[:, None], axis=2).min(axis=1)
    # the sampling can only overshoot, by at most the sample spacing (longest edge / n)
    spacing = np.linalg.norm(corners - np.roll(corners, 1, axis=1), axis=2).max(axis=1) / n
    assert (sampled >= exact - 1e-12).all() and (sampled - exact <= spacing).all()


def test_tree_distance_is_the_minimum_over_all_triangles():
    head = tf.head_models.concentric_spheres(radii=(0.05, 0.08), tags=(1, 2), edge_length=0.012)
    surface = outer_boundary(head.nodes, head.tets)
    points = head.centroids[::7]
    corners = head.nodes[surface]
    brute = point_distances(points, np.broadcast_to(corners, (len(points),) + corners.shape)).min(axis=1)
    distance, triangle, closest = TriangleTree(head.nodes, surface).closest(points)
    np.testing.assert_allclose(distance, brute, rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.linalg.norm(closest - points, axis=1), distance, rtol=0, atol=1e-15)
    assert (point_distances(points, corners[triangle][:, None])[:, 0] - distance < 1e-15).all()


@pytest.fixture(scope="module")
def five_spheres():
    """WM ball 70 mm, GM to 80 mm, CSF, bone, scalp (85/90/95 mm), 10 mm edges (35k tetrahedra)."""
    return tf.head_models.concentric_spheres(radii=(0.07, 0.08, 0.085, 0.09, 0.095), tags=(1, 2, 3, 4, 5),
                                             edge_length=0.01)


def test_linear_decay_with_depth_gives_half_its_length(five_spheres):
    """|E| = 1 − depth/L below the 80 mm brain surface (0 deeper than L) halves at L/2 = 20 mm,
    which lies in the white matter: the WM/GM interface is no surface for d½."""
    head = five_spheres
    depth = 0.08 - np.linalg.norm(head.centroids, axis=1)
    result = synthetic(head, np.clip(1 - depth / 0.04, 0.0, None))
    # The peak is read at the outermost centroids, up to ~h/5 deep (h: element size), which
    # lowers the half level by up to h/10 and moves d½ deeper by that much; the faceted surface
    # lies up to ρ²/2R (0.2 mm here) inside the sphere. Measured: +0.43 / +0.60 / +1.12 / +1.01 mm
    # at mean edges 5.2 / 7.1 / 10.2 / 14.1 mm. Tolerance: a quarter of the mean edge.
    assert result.half_value_depth == pytest.approx(0.02, abs=head.mean_edge_length / 4)
    assert "depth d½ 2" in result.summary()
    assert result.summary_record()["half_value_depth_mm"] == pytest.approx(1e3 * result.half_value_depth)


def test_a_cavity_inside_the_brain_is_not_its_surface():
    """A CSF "ventricle" (20 mm ball) inside the brain: depth still counts from the outer surface
    (80 mm). |E| = 1 − depth/100 mm halves 50 mm down, 10 mm from the cavity's wall."""
    head = tf.head_models.concentric_spheres(radii=(0.02, 0.07, 0.08, 0.09), tags=(3, 1, 2, 5), edge_length=0.01)
    depth = 0.08 - np.linalg.norm(head.centroids, axis=1)
    result = synthetic(head, 1 - depth / 0.1)
    assert result.half_value_depth == pytest.approx(0.05, abs=head.mean_edge_length / 4)   # as above


def test_no_brain_tags_is_a_clear_message(coarse_sphere):
    result = synthetic(coarse_sphere, np.ones(coarse_sphere.n_tets))
    assert not result.has_brain
    with pytest.raises(TmsFieldError, match=r"no brain \(tags \(1, 2\).*it has tags \[3, 4, 5\]"):
        _ = result.half_value_depth
    assert "depth d½: n/a (no brain tags (1, 2) in this head)" in result.summary()
    assert result.summary_record()["half_value_depth_mm"] is None
