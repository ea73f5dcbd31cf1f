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


def test_cli_second_coil_fires_with_the_first(tmp_path):
    """`--coil2` adds a second coil with its own dI/dt: the summary names both placements and
    the saved field equals the Python superposition of the same two coils."""
    from click.testing import CliRunner

    from tmsfield.cli.main import main
    out = tmp_path / "two"
    args = ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--order", "1", "--center-mm", "30,0,90",
            "--coil2", "circular", "--center2-mm", "-30,20,90", "--didt2", "5e5", "--no-picture", "--out", str(out)]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    loaded = tf.load_result(out / "result.npz")
    where = loaded.placements()
    assert [w["coil"] for w in where] == [tf.coils.figure8().name, tf.coils.circular().name]
    assert where[0]["didt_A_per_s"] == [1e6] and where[1]["didt_A_per_s"] == [5e5]
    head = loaded.head
    first = tf.CoilPose.on_head(head, center=(0.03, 0, 0.09), distance=0.004)
    poses = [first, tf.CoilPose.on_head(head, center=(-0.03, 0.02, 0.09), distance=0.004,
                                        handle=first.handle)]   # the CLI gives coil 2 coil 1's handle
    direct = tf.simulate(head, [tf.coils.figure8(), tf.coils.circular()], poses, didt=[1e6, 5e5], order=1)
    assert np.abs(direct.E - loaded.E).max() < 1e-6 * np.abs(direct.E).max()


@pytest.mark.parametrize("args, words", [
    (["--position2", "C4"], "--position2 places a second coil: give it with --coil2"),
    (["--coil2", "circular"], "place --coil2 with one of --position2, --center2-mm and --matsimnibs2"),
    (["--coil2", "circular", "--center2-mm", "0,0,95", "--method", "bem"], "solved by the FEM"),
])
def test_cli_second_coil_flag_mistakes_are_named(tmp_path, args, words):
    from click.testing import CliRunner

    from tmsfield.cli.main import main
    run = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--out", str(tmp_path / "x"), *args])
    assert run.exit_code != 0 and words in run.output, run.output
    assert not (tmp_path / "x").exists()
