"""Conforming surface refinement and adaptive refinement to an error in a region (BEM: facet
subdivision; FEM: gmsh remeshing of nested heads)."""
from __future__ import annotations

import numpy as np
import pytest

import tmsfield as tf
from tmsfield.core.errors import TmsFieldError
from tmsfield.head_models.spheres import sphere_projection, sphere_surfaces
from tmsfield.head_models.surface_checks import check_closed
from tmsfield.head_models.surface_refine import refine_triangles
from tmsfield.solver.adaptive import dorfler_marking, nested_surfaces_of
from tmsfield.solver.options import AdaptiveOptions
from tmsfield.solver.results.roi import SphereROI


def test_refinement_is_conforming_keeps_orientation_and_projects():
    vertices, faces = sphere_surfaces([0.08], edge_length=0.012)[0]
    marked = vertices[faces].mean(axis=1)[:, 2] > 0.06
    v, f, parent = refine_triangles(vertices, faces, marked, project=sphere_projection([0.08]))
    check_closed(v, f, name="refined")                          # closed and consistently oriented: no hanging vertex
    assert np.bincount(parent)[marked].min() == 4 and len(f) > len(faces) + 3 * marked.sum()
    assert np.allclose(np.linalg.norm(v, axis=1), 0.08, rtol=1e-12, atol=0)   # new vertices on the sphere
    normals = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    assert (np.einsum("ij,ij->i", normals, v[f].mean(axis=1)) > 0).all()       # outward, as the parents


def test_dorfler_marks_the_fewest_carrying_the_share():
    marked = dorfler_marking(np.array([1.0, 3.0, 0.5, 2.0]), 0.7)   # squares 1, 9, .25, 4: 9 + 4 ≥ 0.7 × 14.25
    assert marked.tolist() == [False, True, False, True]


def test_adaptive_bem_lowers_the_estimate_and_the_result_reloads(coarse_sphere, tmp_path):
    coil = tf.coils.figure8(model="dipoles", dipole_cell=0.008)
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095))
    roi = SphereROI(center=(0, 0, 0.078), radius=0.01, tags=(3,))
    result = tf.simulate(coarse_sphere, coil, pose, method="bem", tolerance=1e-4, roi=roi,
                         adaptive=AdaptiveOptions(max_steps=2), verbose=False)
    steps = result.provenance["adaptive"]["steps"]
    assert len(steps) == 3 and steps[0]["size"] < steps[1]["size"] < steps[2]["size"]
    assert steps[2]["estimate"] < steps[0]["estimate"] and not result.provenance["adaptive"]["reached"]
    assert result.interfaces.n_facets == steps[2]["size"] == len(result.unknowns)
    result.save(tmp_path / "adaptive.npz")
    loaded = tf.load_result(tmp_path / "adaptive.npz")
    points = coarse_sphere.centroids[roi.elements(coarse_sphere)][:20]
    assert np.allclose(loaded.sample(points), result.sample(points), rtol=1e-12, atol=0)


def test_adaptive_fem_remeshes_near_the_region(coarse_sphere):
    coil = tf.coils.figure8(model="dipoles", dipole_cell=0.008)
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095))
    roi = SphereROI(center=(0, 0, 0.078), radius=0.01, tags=(3,))
    result = tf.simulate(coarse_sphere, coil, pose, tolerance=1e-4, roi=roi, adaptive=AdaptiveOptions(max_steps=1),
                         verbose=False)
    first, second = result.provenance["adaptive"]["steps"]
    assert second["size"] > first["size"] and second["estimate"] < first["estimate"]
    assert result.head.n_tets == second["size"] and set(np.unique(result.head.tags)) == {3, 4, 5}
    far = np.linalg.norm(result.head.centroids - [0, 0, -0.07], axis=1) < 0.015   # opposite side: left coarse
    assert result.head.volumes[far].mean() > 0.5 * coarse_sphere.volumes[
        np.linalg.norm(coarse_sphere.centroids - [0, 0, -0.07], axis=1) < 0.015].mean()


def test_nested_surfaces_of_orders_the_compartments(coarse_sphere):
    surfaces, tags = nested_surfaces_of(coarse_sphere)
    assert tags == [3, 4, 5]
    radii = [np.linalg.norm(v, axis=1).mean() for v, _ in surfaces]
    assert np.allclose(radii, [0.085, 0.090, 0.095], rtol=0.01)


def test_nested_surfaces_of_refuses_tissues_side_by_side(coarse_sphere):
    from tmsfield.core.errors import MeshError
    from tmsfield.head_models.mesh import HeadMesh
    tags = coarse_sphere.tags.copy()
    tags[(tags == 5) & (coarse_sphere.centroids[:, 0] > 0)] = 6           # two tissues share the outside
    head = HeadMesh(coarse_sphere.nodes, coarse_sphere.tets, tags)
    with pytest.raises(MeshError, match=r"tissues \[5, 6\] all touch the outside"):
        nested_surfaces_of(head)


def test_surface_estimate_falls_with_the_facets():
    """Three spheres, E at 60 mm: the estimate is 0.317 / 0.206 % at 10 / 8 mm facets
    (validation/results/bem_error_estimate.md); it must fall at least at the rate of h^1 (0.8)."""
    from tmsfield.solver.bem import BEMSolver, Interfaces
    from tmsfield.validation.bem_sphere_study import fibonacci_sphere
    coil = tf.coils.figure8(model="dipoles", dipole_cell=0.008)
    pose = tf.CoilPose.from_axes(center=[0, 0, 0.099], normal=[0, 0, -1], handle=[0, 1, 0])
    points = fibonacci_sphere(0.060, 500)
    estimates = []
    for edge in (0.010, 0.008):
        surf = Interfaces.from_surfaces([sphere_surfaces([r], edge_length=edge)[0] for r in (0.085, 0.09, 0.095)],
                                        tags=(3, 4, 5))
        result = BEMSolver(surf).solve(coil, pose)
        estimate = result.error_estimate(points)
        assert estimate.per_element.shape == (500,) and estimate.region == "points"
        estimates.append(estimate.relative)
    assert 0 < estimates[1] < 0.8 * estimates[0], estimates


def test_adaptive_needs_a_region(coarse_sphere):
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095))
    with pytest.raises(TmsFieldError, match="roi=SphereROI"):
        tf.simulate(coarse_sphere, tf.coils.figure8(model="dipoles"), pose, tolerance=0.01, verbose=False)
    with pytest.raises(TmsFieldError, match="tolerance is a relative error"):
        AdaptiveOptions(tolerance=5)
    with pytest.raises(TypeError, match="adaptive must be an AdaptiveOptions"):
        tf.simulate(coarse_sphere, tf.coils.figure8(model="dipoles"), pose, adaptive={"tolerance": 0.01},
                    verbose=False)
