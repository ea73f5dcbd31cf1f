"""The recovery-based error estimate tracks the true error (analytic sphere field) and is
reported with P1 results. Effectivity bounds [0.5, 2] are the issue's acceptance band; the
measured values are 0.99 at 8 and 6 mm (validation/results/error_estimate.md)."""
from __future__ import annotations

import numpy as np
import pytest

import tmsfield as tf
from tmsfield.validation.error_estimate import true_error


@pytest.fixture(scope="module")
def p1_result(coarse_sphere):
    coil = tf.coils.figure8(model="dipoles", dipole_cell=0.008)
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095))
    return tf.simulate(coarse_sphere, coil, pose, order=1, verbose=False), coil, pose


def test_estimate_tracks_the_true_error(p1_result):
    result, coil, pose = p1_result
    true, per_element = true_error(result, coil, pose)
    estimate = result.error_estimate
    assert 0.5 < estimate.relative / true < 2.0, (estimate.relative, true)
    assert estimate.per_element.shape == (result.head.n_tets,) and estimate.region == "head"
    hot = estimate.per_element > np.percentile(estimate.per_element, 90)        # the flagged tenth
    assert per_element[hot].mean() > 3 * per_element[~hot].mean()


def test_estimate_is_in_the_summary_and_its_record(p1_result):
    result = p1_result[0]
    assert "estimated error" in result.summary()
    record = result.summary_record()["error_estimate"]
    assert record["relative_L2"] == pytest.approx(result.error_estimate.relative, rel=1e-5)


def test_p2_results_have_no_estimate_yet(coarse_sphere):
    pose = tf.CoilPose.on_head(coarse_sphere, center=(0, 0, 0.095))
    result = tf.simulate(coarse_sphere, tf.coils.figure8(model="dipoles", dipole_cell=0.008), pose, order=2)
    assert result.error_estimate is None and "estimated error" not in result.summary()
