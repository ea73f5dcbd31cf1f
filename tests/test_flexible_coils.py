"""Flexible coils: .tcd deformations, type-3 grid elements, casings, and the fit to the scalp.

References: the composition order and rotation sense are SimNIBS' (TmsCoilElements.
get_combined_transformation: deformations in list order, then the pose; rot2p right-handed
about point1 → point2, scipy Rotation.from_rotvec). The fit is checked against geometry: a flat
wing hinged at height h above a sphere's apex touches the sphere of radius R (plus the gap)
when h·cos θ = R + gap, whatever the search does.
"""
from __future__ import annotations

import base64
import json
import pickle
import zlib

import numpy as np
import pytest
from conftest import data_file

import tmsfield as tf
from tmsfield.coils.casing import CoilCasing
from tmsfield.coils.deformation import CoilDeformations, Deformation
from tmsfield.coils.flexible_fit import SAFETY_MARGIN, FitOptions, fit_to_scalp
from tmsfield.core.errors import CoilError, PlacementError

R_SPHERE = 0.095


def _wing_plate(x0, x1, n=12):
    """A flat rectangle x0..x1 × ±20 mm at z = 0 (coil frame, m), triangulated."""
    xs, ys = np.linspace(x0, x1, n), np.linspace(-0.02, 0.02, 6)
    v = np.array([[x, y, 0.0] for x in xs for y in ys])
    faces = []
    for i in range(n - 1):
        for j in range(5):
            a = i * 6 + j
            faces += [[a, a + 6, a + 1], [a + 1, a + 6, a + 7]]
    return CoilCasing(v, np.array(faces), min_distance_points=v)


def hinge_coil():
    """Two wings (parts 0, 1) hinged on the y axis through the coil centre; one parameter (deg)
    bends both towards the head (+z'); each wing carries a square loop 2 mm above its plate."""
    starts, ends, parts = [], [], []
    for part, (x0, x1) in enumerate([(0.005, 0.06), (-0.06, -0.005)]):
        corners = np.array([[x0, -0.015, -0.002], [x1, -0.015, -0.002], [x1, 0.015, -0.002], [x0, 0.015, -0.002]])
        starts.append(corners), ends.append(np.roll(corners, -1, axis=0)), parts.append(np.full(4, part))
    model = CoilDeformations.build(
        bounds=[[-40.0, 40.0]], initial=[0.0],
        deformations=[Deformation("rot2p", 0, [0, 0, 0], [0, -1e-3, 0]),
                      Deformation("rot2p", 0, [0, 0, 0], [0, 1e-3, 0])],
        chains=[(0,), (1,)])
    casing = CoilCasing.merge([(_wing_plate(0.005, 0.06), 0), (_wing_plate(-0.06, -0.005), 1)])
    return tf.Coil(segment_starts=np.vstack(starts), segment_ends=np.vstack(ends), segment_part=np.concatenate(parts),
                   casing=casing, deformations=model, name="hinge")


@pytest.fixture(scope="module")
def sphere():
    return tf.head_models.concentric_spheres(radii=(0.085, 0.09, R_SPHERE), tags=(3, 4, 5), edge_length=0.004)


def test_deformations_apply_in_list_order_then_the_pose():
    """A part translated 10 mm along x, then turned 90° about z through the origin, goes to
    +y (the other order would leave it on +x); the pose then acts on the result."""
    model = CoilDeformations.build([[0, 20], [-90, 90]], [0, 0],
                                   [Deformation("x", 0), Deformation("rot2p", 1, [0, 0, 0], [0, 0, 1])], [(0, 1)])
    coil = tf.Coil(dipole_positions=[[0.0, 0, 0]], dipole_moments=[[1.0, 0, 0]], deformations=model)
    moved = coil.deformed([10.0, 90.0])
    np.testing.assert_allclose(moved.dipole_positions[0], [0, 0.010, 0], atol=1e-15)
    np.testing.assert_allclose(moved.dipole_moments[0], [0, 1, 0], atol=1e-15)   # moments turn with the part
    pose = tf.CoilPose.from_axes([0.0, 0.0, 0.1], [0, 0, -1], [0, 1, 0])
    placed_then_deformed = coil.transformed(pose.matrix).deformed([10.0, 90.0])
    np.testing.assert_allclose(placed_then_deformed.dipole_positions[0],
                               moved.transformed(pose.matrix).dipole_positions[0], atol=1e-15)
    with pytest.raises(CoilError, match=r"deformation '1: rotation of part\(s\) \[0\]' = 120 deg is outside its range"):
        coil.deformed([0.0, 120.0])


def _flexible_tcd(tmp_path, initial: float, grid_data=None):
    spec = {
        "name": "flex", "stimulatorList": [{"maxdIdt": 1e8}],
        "deformRangeList": [{"initial": initial, "range": [-30, 30]}],
        "deformList": [{"deformRange": 0, "type": "rot2p", "point1": [0, 0, 0], "point2": [0, 10, 0]}],
        "coilModels": [{"points": [[10, 0, 0], [20, 0, 0], [10, 10, 0]], "faces": [[0, 1, 2]]}],
        "coilElementList": [
            {"stimulator": 0, "type": 2, "points": [[0, 0, -2], [30, 0, -2]], "values": [[10, 0, 0], [0, 10, 0]]},
            {"stimulator": 0, "type": 1, "deformations": [0], "elementCasing": 0,
             "points": [[40, 0, -2]], "values": [[0, 0, 1.0]]},
        ],
    }
    if grid_data is not None:
        spec["coilElementList"].append({"stimulator": 0, "type": 3, "deformations": [0], "data": grid_data,
                                        "affine": [[5, 0, 0, 30], [0, 5, 0, -5], [0, 0, 5, 0], [0, 0, 0, 1]]})
    path = tmp_path / "flex.tcd"
    path.write_text(json.dumps(spec))
    return path


def test_tcd_reader_starts_flexible_coils_at_their_initial_deformation(tmp_path):
    """The file's geometry is at deformation 0; SimNIBS evaluates a coil at the ranges'
    ``initial`` values. Turning the read coil back to 0 gives the file's numbers again."""
    coil = tf.coils.load(_flexible_tcd(tmp_path, initial=20.0))
    assert coil.is_flexible and coil.deformations.values.tolist() == [20.0]
    a = np.radians(20.0)   # right-handed about +y: x → (cos a, 0, −sin a)
    x, z = 0.040, -0.002
    turned = [x * np.cos(a) + z * np.sin(a), 0, -x * np.sin(a) + z * np.cos(a)]
    np.testing.assert_allclose(coil.dipole_positions[0], turned, atol=1e-12)
    flat = coil.deformed([0.0])
    np.testing.assert_allclose(flat.dipole_positions[0], [0.040, 0, -0.002], atol=1e-15)
    np.testing.assert_allclose(flat.casing.vertices[:, :2], [[0.01, 0], [0.02, 0], [0.01, 0.01]], atol=1e-15)
    np.testing.assert_allclose(flat.segment_starts, coil.segment_starts)       # the rigid element stays


@pytest.mark.parametrize("encoding", ["list", "pickle"])
def test_tcd_grid_elements_read_as_simnibs_writes_them(tmp_path, encoding):
    """Type-3 elements: nested lists, or base64(zlib(pickle(array))) as SimNIBS' to_tcd writes
    them. At a grid node the coil's A equals the stored value (trilinear interpolation is exact
    there), and a deformed grid carries its values round with it."""
    data = np.random.default_rng(1).normal(size=(3, 4, 2, 3)) * 1e-7
    text = data.tolist() if encoding == "list" else base64.b64encode(zlib.compress(pickle.dumps(data))).decode()
    coil = tf.coils.load(_flexible_tcd(tmp_path, initial=0.0, grid_data=text))
    assert len(coil.grids) == 1 and coil.grids[0].part == 2
    node = np.array([[0.030 + 0.005 * 2, -0.005 + 0.005 * 1, 0.005]])           # index (2, 1, 1)
    others = tf.Coil(segment_starts=coil.segment_starts, segment_ends=coil.segment_ends,
                     dipole_positions=coil.dipole_positions, dipole_moments=coil.dipole_moments)
    np.testing.assert_allclose(coil.vector_potential(node) - others.vector_potential(node), data[2, 1, 1][None],
                               rtol=1e-12, atol=1e-20)
    turned = coil.deformed([30.0])
    r = tf.coils.deformation._rotation(np.array([0.0, 1, 0]), 30.0)
    grid_only = tf.Coil(grids=turned.grids)
    np.testing.assert_allclose(grid_only.vector_potential(node @ r.T), (data[2, 1, 1] @ r.T)[None], rtol=1e-12)


def test_hinged_wings_come_to_rest_on_a_sphere_at_the_geometric_angle(sphere):
    """Wings hinged h = R + 5 mm above the apex, gap 0: the fit bends them until their plate's
    sampled points touch the true sphere (kept SAFETY_MARGIN out): the angle solved here from the
    geometry alone, 17.42° (an unsampled plate would touch at arccos((R + margin)/h) = 17.25°).
    Tolerance 0.1°: the 4 mm polyhedral sphere lies up to e²/6R ≈ 0.03 mm inside the true one
    (0.06° at the 30 mm lever), the 2 mm trilinear distance grid of a 95 mm sphere errs by
    ~0.005 mm, and the local search stops at 1e-3 of the parameter range."""
    from scipy.optimize import brentq
    h = R_SPHERE + 0.005
    pose = tf.CoilPose.from_axes([0, 0, h], [0, 0, -1], [0, 1, 0])
    coil = hinge_coil()
    plate = coil.casing.vertices[coil.casing.vertex_part == 0]          # wing 0, coil frame (z' down)

    def clearance(theta_deg):   # wing 0 turned towards the head about −y: x' → (cos, 0, sin) in z'
        t = np.radians(theta_deg)
        x, y = plate[:, 0], plate[:, 1]
        head_z = h - x * np.sin(t)                                        # z' = −z (head frame)
        return np.sqrt((x * np.cos(t)) ** 2 + y ** 2 + head_z ** 2).min() - (R_SPHERE + SAFETY_MARGIN)
    expected = brentq(clearance, 0.0, 40.0)
    fit = fit_to_scalp(sphere, coil, pose, FitOptions(gap=0.0, rotation_deg=None, translation_mm=None))
    assert fit.deformation[0] == pytest.approx(expected, abs=0.1)
    assert 0 < fit.min_casing_distance_mm < 1.0 and fit.min_element_distance_mm > fit.min_casing_distance_mm
    placed = fit.coil.transformed(fit.pose.matrix)
    assert (sphere.scalp.signed_distance(placed.source_points()) > 0).all()


def test_a_flexible_coil_is_fitted_by_simulate_and_recorded(sphere):
    """Wings pressed 3 mm into the sphere as stored: simulate fits them (default options) and
    records the fit; fit=False keeps the stored shape, which the placement check refuses."""
    pose = tf.CoilPose.from_axes([0, 0, R_SPHERE + 0.003], [0, 0, -1], [0, 1, 0])
    coil = hinge_coil().deformed([25.0])
    with pytest.raises(PlacementError, match="inside the scalp"):
        tf.simulate(sphere, coil, pose, order=1, fit=False)
    result = tf.simulate(sphere, coil, pose, order=1)
    (record,) = result.provenance["coil_fits"]
    assert record["coil"] == "hinge" and record["min_element_distance_mm"] > 0
    assert record["min_casing_distance_mm"] >= 4.0 - 1e3 * SAFETY_MARGIN     # the default 4 mm gap
    assert "coil fit" in result.timings and "fitted" in result.summary()
    assert (sphere.scalp.signed_distance(result.coil.transformed(result.pose.matrix).source_points()) > 0).all()


def test_a_coil_that_cannot_be_fitted_is_a_placement_error(sphere):
    """Hinge 20 mm inside the sphere, no rigid moves allowed: no bend gets the wings out."""
    pose = tf.CoilPose.from_axes([0, 0, R_SPHERE - 0.02], [0, 0, -1], [0, 1, 0])
    with pytest.raises(PlacementError,
                       match=r"'hinge' cannot be fitted .* a coil element lies [0-9.]+ mm inside the head"):
        fit_to_scalp(sphere, hinge_coil(), pose, FitOptions(gap=0.0, rotation_deg=None, translation_mm=None))


def test_fit_options_name_bad_ranges():
    with pytest.raises(tf.TmsFieldError, match="rotation_deg must be three"):
        FitOptions(rotation_deg=((-5, 5), (5, -5), (0, 0)))
    with pytest.raises(tf.TmsFieldError, match=r"fit gap \(casing-scalp distance\) must be 0-30 mm"):
        FitOptions(gap=4.0)


def test_brainsway_h1_is_fitted_on_the_demo_head(shared_data):
    """The shared H1 .tcd placed over F3 of the demo head starts 20+ mm inside the head; the
    fit (default SimNIBS ranges) brings every element out and keeps the housing off the skin."""
    from tmsfield.cli.options import cap_position
    head = tf.head_models.demo_head()
    at = cap_position(head, "demo")
    coil = tf.coils.load(data_file(shared_data, "simnibs/Brainsway_H1.tcd"))
    pose = tf.CoilPose.on_head(head, at("F3"), handle=at("Fpz") - at("F3"), distance=0.0)
    assert (head.scalp.signed_distance(coil.transformed(pose.matrix).source_points()) < 0).any()
    fit = fit_to_scalp(head, coil, pose, FitOptions(gap=0.0, global_search=False))
    placed = fit.coil.transformed(fit.pose.matrix)
    assert head.scalp.signed_distance(placed.source_points()).min() > 0
    assert head.scalp.signed_distance(placed.casing.vertices).min() > 0


def test_cli_refuses_a_coil_it_cannot_fit_and_writes_nothing(tmp_path):
    """A flexible coil posed 20 mm inside the sphere with no rigid moves allowed: the CLI fails
    naming the fit, and the output folder is never created."""
    from click.testing import CliRunner

    from tmsfield.cli.main import main
    pose = tmp_path / "deep.txt"
    np.savetxt(pose, tf.CoilPose.from_axes([0, 0, 0.075], [0, 0, -1], [0, 1, 0]).to_matsimnibs("mm"))
    run = CliRunner().invoke(main, ["simulate", "--head", "sphere", "--edge-length-mm", "12", "--order", "1",
                                    "--coil", str(_flexible_tcd(tmp_path, initial=0.0)), "--matsimnibs", str(pose),
                                    "--fit-rotation-deg", "0,0,0", "--fit-translation-mm", "0,0,0",
                                    "--no-picture", "--out", str(tmp_path / "out")])
    assert run.exit_code != 0 and "cannot be fitted" in run.output and "inside the head" in run.output, run.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("flag, value, words", [
    ("--fit-rotation-deg", "20,-5,5", "--fit-rotation-deg takes three half-widths >= 0"),
    ("--fit-translation-mm", "5,5", "--fit-translation-mm must have 3 finite components"),
])
def test_cli_fit_ranges_bad_input_is_named_before_any_work(tmp_path, flag, value, words):
    from click.testing import CliRunner

    from tmsfield.cli.main import main
    run = CliRunner().invoke(main, ["simulate", "--head", "sphere", flag, value, "--out", str(tmp_path / "out")])
    assert run.exit_code != 0 and words in run.output, run.output
    assert not (tmp_path / "out").exists()
