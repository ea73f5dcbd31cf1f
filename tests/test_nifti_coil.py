"""SimNIBS NIfTI coils (sampled A-field grids) against the same coil's dipoles (.ccd)."""
import numpy as np
import pytest

import tmsfield as tf
from tmsfield.core.errors import CoilError


@pytest.fixture(scope="module")
def coils(shared_data):
    pytest.importorskip("nibabel")
    folder = shared_data / "simnibs"
    if not (folder / "testcoil.nii.gz").is_file():
        pytest.skip("testcoil.nii.gz not present")
    return tf.coils.load(folder / "testcoil.nii.gz"), tf.coils.load(folder / "testcoil.ccd")


POSE = tf.CoilPose.from_axes([0.01, -0.02, 0.1], [0.2, 0.1, -1.0], [0.0, 1.0, 0.3])


def test_grid_values_are_the_dipoles_potential_at_the_nodes_under_any_pose(coils):
    """At the grid nodes trilinear interpolation is exact, so the grid coil and the .ccd coil
    (direct sums, nothing shared) agree to the image's float32 storage (measured 5e-8 of the
    largest |A| away from the dipoles), wherever the pose puts them."""
    grid_coil, dipoles = coils
    grid = grid_coil.grids[0]
    index = np.stack(np.meshgrid(*[np.arange(n) for n in grid.values.shape[:3]], indexing="ij"), -1).reshape(-1, 3)
    nodes = index @ grid.affine[:3, :3].T + grid.affine[:3, 3]                       # coil frame, m
    nodes = nodes[np.linalg.norm(nodes, axis=1) > 0.03]                              # away from the dipoles
    head = nodes @ POSE.matrix[:3, :3].T + POSE.matrix[:3, 3]
    ours = grid_coil.dadt(head, POSE, didt=1e6)
    reference = dipoles.dadt(head, POSE, didt=1e6, method="direct")
    assert np.abs(ours - reference).max() < 1e-6 * np.abs(reference).max()


def test_between_nodes_the_grid_interpolates_and_is_zero_outside(coils):
    """Between nodes, trilinear interpolation of the 10 mm grid: 40-60 mm below the coil's centre
    within 4 % of the dipoles' field (validation/results/nifti_coil.md has the table by depth);
    outside the grid (±100 mm) A is zero, as SimNIBS has it."""
    grid_coil, dipoles = coils
    rng = np.random.default_rng(2)
    below = np.column_stack([rng.uniform(-0.02, 0.02, (200, 2)), rng.uniform(0.04, 0.06, 200)])
    ours, reference = grid_coil.vector_potential(below), dipoles.vector_potential(below, method="direct")
    assert np.linalg.norm(ours - reference) < 0.04 * np.linalg.norm(reference)
    assert not np.any(grid_coil.vector_potential(np.array([[0.0, 0.0, 0.15]])))


def test_a_grid_coil_simulates_and_its_result_round_trips(coils, coarse_sphere, tmp_path):
    """The solver takes a grid coil like any other (its dA/dt at the DOFs), and a saved result
    keeps the grid. (The shared test grid's 10 mm spacing cannot resolve its four dipoles 1-2 mm
    behind the coil face within 2 cm of them: validation/results/nifti_coil.md, so its E near the
    scalp is not compared with the .ccd coil's here.)"""
    grid_coil, _ = coils
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0.0, 0.0, 0.095))
    result = tf.simulate(coarse_sphere, grid_coil, pose, order=1, didt=1e8)
    assert np.isfinite(result.E).all() and np.abs(result.E).max() > 0
    np.testing.assert_allclose(result.dadt, grid_coil.dadt(coarse_sphere.nodes, pose, didt=1e8), rtol=1e-12)
    result.save(tmp_path / "r.npz")
    loaded = tf.load_result(tmp_path / "r.npz")
    np.testing.assert_array_equal(loaded.coil.grids[0].values, grid_coil.grids[0].values)
    np.testing.assert_allclose(loaded.coil.dadt(coarse_sphere.nodes, pose, didt=1e8), result.dadt, rtol=1e-12)


def test_b_and_the_placement_search_need_the_elements(coils):
    grid_coil, _ = coils
    with pytest.raises(CoilError, match="gives A and dA/dt, not B"):
        grid_coil.b_field(np.zeros((1, 3)) + [0, 0, 0.05])
    from tmsfield.optimize.adm import coil_elements
    with pytest.raises(CoilError, match="use its .ccd/.tcd version for the placement search"):
        coil_elements(grid_coil)


def test_cli_reads_a_nifti_coil(coils, shared_data):
    from click.testing import CliRunner

    from tmsfield.cli.main import main
    result = CliRunner().invoke(main, ["coil", "info", str(shared_data / "simnibs" / "testcoil.nii.gz")])
    assert result.exit_code == 0 and "an A-field grid of (21, 21, 21) voxels" in result.output, result.output


def test_a_nifti_that_is_no_coil_grid_is_a_named_error(tmp_path):
    nibabel = pytest.importorskip("nibabel")
    from tmsfield.core.errors import FileFormatError
    path = tmp_path / "t1.nii.gz"
    nibabel.save(nibabel.Nifti1Image(np.zeros((4, 4, 4), np.float32), np.eye(4)), path)
    with pytest.raises(FileFormatError, match=r"t1\.nii\.gz: a NIfTI coil holds A on a grid, shape \(X, Y, Z, 3\)"):
        tf.coils.load(path)
    values = np.zeros((3, 3, 3, 3), np.float32)
    values[1, 1, 1, 0] = np.nan
    nibabel.save(nibabel.Nifti1Image(values, np.eye(4)), path)
    with pytest.raises(FileFormatError, match="NaN/infinite values"):
        tf.coils.load(path)
