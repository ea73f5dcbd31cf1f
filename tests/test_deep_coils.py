"""Double-cone and H-type builders: geometry, current sense, and the depth ordering TMS
physics expects (Deng, Lisanby & Peterchev 2013, spherical head: a double cone reaches deeper
than a figure-8, H-type coils deeper still, at the price of focality).

Each coil is lowered or lifted onto the sphere by :func:`fit_to_scalp` (a rigid shift along
its axis, 4 mm wire–scalp gap); the half-value depth is read on the axis under the coil,
from the brain surface (84 mm radius) to where |E| falls to half its value there.
"""
from __future__ import annotations

import numpy as np
import pytest

import tmsfield as tf
from tmsfield.coils.flexible_fit import FitOptions, fit_to_scalp


def test_double_cone_wings_meet_at_the_opening_angle():
    coil = tf.coils.double_cone(outer_radius=0.05, inner_radius=0.02, turns=4, opening_angle=100.0, gap=0.0)
    right = coil.segment_starts[coil.segment_starts[:, 0] > 0.005]
    # the right wing's winding plane: its normal makes (180 - 100)/2 = 40° with the coil axis
    centred = right - right.mean(axis=0)
    normal = np.linalg.svd(centred)[2][-1]
    assert np.degrees(np.arccos(abs(normal[2]))) == pytest.approx(40.0, abs=0.01)
    assert right[:, 2].max() > 0.02                 # the outer edge bends towards the head (+z)
    with pytest.raises(tf.TmsFieldError, match="opening_angle must be 90-180 degrees"):
        tf.coils.double_cone(opening_angle=60.0)


def test_h_coil_base_carries_the_current_along_minus_y_and_returns_farther_out():
    coil = tf.coils.h_coil(strips=5, length=0.1, arc_angle=60.0, base_radius=0.09, return_height=0.05)
    d = coil.segment_ends - coil.segment_starts
    base = np.abs(d[:, 1]) > 0.09
    base_down = base & (d[:, 1] < 0)
    assert base_down.sum() == 5 and (base & (d[:, 1] > 0)).sum() == 5     # bases along -y, returns along +y
    radius = lambda p: np.hypot(p[:, 0], p[:, 2] - (0.09 - 0.004))           # from the cylinder's axis
    np.testing.assert_allclose(radius(coil.segment_starts[base_down]), 0.09, atol=1e-12)
    np.testing.assert_allclose(radius(coil.segment_starts[base & ~base_down]), 0.14, atol=1e-12)
    a = coil.vector_potential(np.array([[0.0, 0.0, 0.03]]))[0]
    assert a[1] < 0 and abs(a[0]) < 1e-3 * abs(a[1])                        # A follows the base current


def test_depth_ordering_figure8_double_cone_h_coil(sphere_brain):
    """On-axis half-value depths (measured: figure-8 13.9, double cone 19.0, H-type 45.5 mm at
    6 mm mesh edges; 14.5, 18.8, 48.9 mm at 4 mm, so the mesh moves them by at most 3.4 mm):
    the orderings must hold with margins of 2 mm and 10 mm."""
    pose = tf.CoilPose.from_axes([0, 0, 0.099], [0, 0, -1], [0, 1, 0])
    lift = FitOptions(gap=0.004, rotation_deg=None, translation_mm=((0, 0), (0, 0), (-60, 60)))
    depth = {}
    for coil in (tf.coils.figure8(), tf.coils.double_cone(), tf.coils.h_coil()):
        fit = fit_to_scalp(sphere_brain, coil, pose, lift)
        assert fit.min_element_distance_mm == pytest.approx(4.5, abs=0.3)    # gap + margin, found by the search
        result = tf.simulate(sphere_brain, fit.coil, fit.pose, order=1, fit=False)
        z = np.linspace(0.084, 0.03, 541)
        profile = np.linalg.norm(result.sample(np.c_[0 * z, 0 * z, z]), axis=1)
        depth[coil.name.split()[0]] = 1e3 * (0.084 - z[np.argmax(profile < 0.5 * profile[0])])
    assert depth["double"] > depth["figure-8"] + 2.0, depth
    assert depth["H-type"] > depth["double"] + 10.0, depth


@pytest.fixture(scope="module")
def sphere_brain():
    """85/90/95 mm spheres tagged brain (2), bone (4), scalp (5); 6 mm mesh edges."""
    return tf.head_models.concentric_spheres(radii=(0.085, 0.09, 0.095), tags=(2, 4, 5), edge_length=0.006)


def test_cli_fits_a_double_cone_onto_the_head_on_request(tmp_path):
    """A double cone at the default 4 mm sits with its wings inside the sphere: refused as is,
    lifted clear with --fit (its wires then --distance-mm from the scalp)."""
    from click.testing import CliRunner

    from tmsfield.cli.main import main
    base = ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--order", "1", "--coil", "double_cone",
            "--no-picture"]
    refused = CliRunner().invoke(main, [*base, "--out", str(tmp_path / "a")])
    assert refused.exit_code != 0 and "inside the scalp" in refused.output and "(--fit)" in refused.output
    fitted = CliRunner().invoke(main, [*base, "--fit", "--out", str(tmp_path / "b")])
    assert fitted.exit_code == 0, fitted.output
    record = tf.load_result(tmp_path / "b" / "result.npz").provenance["coil_fits"][0]
    assert record["min_element_distance_mm"] >= 4.0 - 0.5 and record["adjustment"]["shift_mm"][2] < -20
