import numpy as np
import pytest

import tmsfield as tf
from tmsfield.core.errors import PlacementError


def test_on_head_follows_matsimnibs_convention(coarse_sphere):
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095), handle=(0, 1, 0), distance=0.004)
    m = pose.matrix
    assert np.allclose(m[:3, 2], [0, 0, -1], atol=0.05)            # z' into the head
    assert abs(np.linalg.norm(pose.center) - 0.099) < 5e-4          # 4 mm above a 95 mm scalp
    assert np.allclose(np.cross(m[:3, 0], m[:3, 1]), m[:3, 2])       # right-handed
    assert pose.handle[1] > 0.99


def test_handle_is_made_orthogonal_and_parallel_handle_refused():
    pose = tf.CoilPose.from_axes([0, 0, 0.1], normal=[0, 0, -1], handle=[0, 1, 0.5])
    assert np.allclose(pose.handle, [0, 1, 0])
    with pytest.raises(PlacementError, match="parallel"):
        tf.CoilPose.from_axes([0, 0, 0.1], normal=[0, 0, -1], handle=[0, 0, 1])


def test_matsimnibs_in_mm_roundtrip(tmp_path):
    pose = tf.CoilPose.from_axes([0.01, -0.02, 0.1], normal=[0, 0.6, -0.8], handle=[1, 0, 0])
    np.savetxt(tmp_path / "pose.txt", pose.to_matsimnibs("mm"))
    back = tf.CoilPose.load(tmp_path / "pose.txt")
    assert np.allclose(back.matrix, pose.matrix) and np.allclose(back.center, [0.01, -0.02, 0.1])


def test_non_orthonormal_matrix_refused():
    m = np.eye(4)
    m[0, 0] = 2.0
    with pytest.raises(PlacementError, match="orthonormal"):
        tf.CoilPose(m)


def test_coil_inside_scalp_refused(coarse_sphere):
    pose = tf.CoilPose.from_axes([0, 0, 0.08], normal=[0, 0, -1], handle=[0, 1, 0])
    with pytest.raises(PlacementError, match="inside the scalp"):
        tf.simulate(coarse_sphere, tf.coils.figure8(), pose)


def test_negative_distance_refused(coarse_sphere):
    with pytest.raises(PlacementError, match="distance"):
        tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095), distance=-0.001)


def test_handle_angle_turns_counter_clockwise_seen_from_outside(coarse_sphere):
    """Turning by 90° takes the handle h to n × h, n the outward normal (−z'): counter-clockwise
    seen from outside; at the top of the sphere (n ≈ +z; the polyhedral scalp tilts it by 0.6°)
    +y goes to about −x. The centre and the axis stay."""
    straight = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095), handle=(0, 1, 0))
    turned = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095), handle=(0, 1, 0), handle_angle_deg=90)
    np.testing.assert_allclose(turned.handle, np.cross(-straight.normal, straight.handle), atol=1e-12)
    np.testing.assert_allclose(turned.handle, [-1, 0, 0], atol=0.02)
    np.testing.assert_allclose(turned.center, straight.center, atol=1e-15)
    np.testing.assert_allclose(turned.normal, straight.normal, atol=1e-15)
    np.testing.assert_allclose(straight.turned(30).turned(-30).matrix, straight.matrix, atol=1e-15)
    with pytest.raises(tf.TmsFieldError, match="handle angle"):
        straight.turned(float("nan"))
