"""The FEM error estimates track the true error (analytic sphere field) and are reported with
P1 (recovery-based) and P2 (hierarchical) results. Effectivity bounds [0.5, 2] are the issue's
acceptance band; measured values in validation/results/error_estimate.md."""
from __future__ import annotations

import numpy as np
import pytest

import tmsfield as tf
from tmsfield.validation.error_estimate import true_error


@pytest.fixture(scope="module", params=[1, 2], ids=["P1", "P2"])
def fem_result(request, coarse_sphere):
    coil = tf.coils.figure8(model="dipoles", dipole_cell=0.008)
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095))
    return tf.simulate(coarse_sphere, coil, pose, order=request.param, verbose=False), coil, pose


def test_estimate_tracks_the_true_error(fem_result):
    result, coil, pose = fem_result
    true, per_element = true_error(result, coil, pose)
    estimate = result.error_estimate
    assert 0.5 < estimate.relative / true < 2.0, (estimate.relative, true)
    assert estimate.method.startswith("recovery" if result.provenance["solver"]["order"] == 1 else "hierarchical")
    assert estimate.per_element.shape == (result.head.n_tets,) and estimate.region == "head"
    hot = estimate.per_element > np.percentile(estimate.per_element, 90)        # the flagged tenth
    assert per_element[hot].mean() > 3 * per_element[~hot].mean()


def test_estimate_is_in_the_summary_and_its_record(fem_result):
    result = fem_result[0]
    assert f"estimated error {100 * result.error_estimate.relative:.2g} %" in result.summary()
    assert result.error_estimate.method in result.summary()
    record = result.summary_record()["error_estimate"]
    assert record["relative_L2"] == pytest.approx(result.error_estimate.relative, abs=5e-7)   # rounded to 6 decimals
    assert record["method"] == result.error_estimate.method


def test_p2_estimate_of_a_discrete_problem_with_a_known_solution():
    """∂A/∂t = ∇ψ with ψ cubic: the exact potential is −ψ and E = 0 on any mesh, so the true
    error is ‖E_h‖ with no geometric error; measured effectivity 1.13 at 12 mm (the band of the
    issue, [0.5, 2])."""
    from tmsfield.validation.error_estimate import known_solution_study
    (row,) = known_solution_study((12,))
    assert 0.5 < row["effectivity"] < 2.0 and row["log_correlation"] > 0.5, row


def test_p2_estimate_vanishes_where_the_space_holds_the_solution(coarse_sphere):
    from tmsfield.solver.fem import assembly
    from tmsfield.solver.fem.hierarchical_estimate import element_errors
    from tmsfield.solver.fem.space import FunctionSpace
    head = coarse_sphere
    space = FunctionSpace.on(head, 2)
    x, y, z = (space.dof_points / 0.09).T
    phi = x * x + y * z - 0.5 * z                                   # a quadratic potential, held exactly
    dadt = -np.column_stack([2 * x, z, y - 0.5]) / 0.09             # ∂A/∂t = −∇φ: E = 0, no current
    assert np.abs(element_errors(head, space, head.conductivity(), phi, dadt)).max() < 1e-9
    d = assembly.Discretisation.on(space, head)
    assert np.abs(assembly.gradient_at(d, phi, np.full(4, 0.25))).max() > 1   # the test is not trivial


def test_bem_estimate_tracks_the_true_error_and_survives_a_save(coarse_sphere, tmp_path):
    """BEM: the field of the charge variation the constant charges miss, per element, against the
    analytic field inside the innermost compartment up to 1 mm below its surface (where a head's
    brain lies); the issue's band [0.5, 2] (measured 1.59 here, 0.58-3.7 on the surface-only sphere sets: the
    estimate does not see the flat facets' departure from the sphere; elements between the
    surfaces 0.25-0.29: validation/results/bem_error_estimate.md)."""
    coil = tf.coils.figure8(model="dipoles", dipole_cell=0.008)
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095))
    result = tf.simulate(coarse_sphere, coil, pose, method="bem", verbose=False)
    _, per_element = true_error(result, coil, pose)
    estimate = result.error_estimate
    inner = np.linalg.norm(result.head.centroids, axis=1) < 0.084            # innermost sphere: 85 mm
    weights = result.head.volumes[inner]
    true = np.sqrt((weights * per_element[inner] ** 2).sum() / (weights * (result.E[inner] ** 2).sum(axis=1)).sum())
    estimated = np.sqrt((weights * estimate.per_element[inner] ** 2).sum()
                        / (weights * (result.E[inner] ** 2).sum(axis=1)).sum())
    assert 0.5 < estimated / true < 2.0, (estimated, true)
    assert estimate.method.startswith("charge recovery") and estimate.per_element.shape == (result.head.n_tets,)
    assert f"estimated error {100 * estimate.relative:.2g} %" in result.summary()
    result.save(tmp_path / "bem.npz")
    loaded = tf.load_result(tmp_path / "bem.npz")
    assert loaded.error_estimate.relative == pytest.approx(estimate.relative, rel=1e-9)
