"""Several coils fired together: superposition in one FEM solve."""
import numpy as np
import pytest

import tmsfield as tf
from tmsfield.core.errors import TmsFieldError


def test_two_coils_together_are_the_sum_of_each_alone(coarse_sphere, tmp_path):
    """The FEM is linear in the primary field: E of both coils (each with its own dI/dt) equals
    the sum of the two separate solves, to the CG tolerance (1e-10 here)."""
    figure8, circle = tf.coils.figure8(model="dipoles"), tf.coils.circular()
    poses = [tf.CoilPose.on_head(coarse_sphere, center=(0.03, 0.0, 0.09)),
             tf.CoilPose.on_head(coarse_sphere, center=(-0.03, 0.02, 0.09), handle=(1, 0, 0))]
    didt = [1e8, 0.5e8]
    together = tf.simulate(coarse_sphere, [figure8, circle], poses, didt=didt, order=1, tol=1e-10)
    alone = [tf.simulate(coarse_sphere, c, p, didt=d, order=1, tol=1e-10)
             for c, p, d in zip((figure8, circle), poses, didt)]
    total = alone[0].E + alone[1].E
    assert np.abs(together.E - total).max() < 1e-6 * np.abs(total).max()
    points = np.array([[0.0, 0.0, 0.07], [0.02, 0.01, 0.06]])
    np.testing.assert_allclose(together.sample(points), alone[0].sample(points) + alone[1].sample(points),
                               rtol=1e-6, atol=1e-6 * np.abs(total).max())
    where = together.placements()
    assert [w["coil"] for w in where] == [figure8.name, circle.name] and where[1]["didt_A_per_s"] == [0.5e8]
    np.testing.assert_allclose(where[0]["center_mm"], 1e3 * poses[0].center, atol=1e-3)
    assert together.placement() is None and figure8.name in together.summary()
    together.save(tmp_path / "both.npz")
    loaded = tf.load_result(tmp_path / "both.npz")
    assert [w["coil"] for w in loaded.placements()] == [figure8.name, circle.name]
    np.testing.assert_array_equal(loaded.E, together.E)


def test_mismatched_lists_and_the_bem_are_named_errors(coarse_sphere):
    coil = tf.coils.figure8(model="dipoles")
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0.0, 0.0, 0.095))
    solver = tf.FieldSolver(coarse_sphere, order=1)
    with pytest.raises(TmsFieldError, match="one pose and one dI/dt per coil"):
        solver.solve_together([coil, coil], [pose], didt=[1e6, 1e6])
    with pytest.raises(TypeError, match="pose and didt as lists too"):
        tf.simulate(coarse_sphere, [coil, coil], pose, didt=1e6)
    with pytest.raises(TmsFieldError, match="solved by the FEM"):
        tf.simulate(coarse_sphere, [coil], [pose], didt=[1e6], method="bem")
