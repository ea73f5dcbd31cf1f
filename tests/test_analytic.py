"""Independent checks of the Heller–van Hulsteyn sphere solution used as FEM reference."""
import numpy as np

import tmsfield as tf
from tmsfield.validation.analytic import sphere_e_field

POS = np.array([[0.02, -0.01, 0.11]])
MOM = np.array([[0.4, -0.2, 0.9]])


def _inside(n=200, seed=0):
    p = np.random.default_rng(seed).normal(size=(n, 3))
    return 0.08 * p / np.linalg.norm(p, axis=1)[:, None] * np.random.default_rng(seed + 1).uniform(0.1, 1, (n, 1))


def test_field_is_tangential_everywhere():
    """A spherically symmetric conductor carries no radial field (no charge flows radially)."""
    pts = _inside()
    E = sphere_e_field(pts, POS, MOM, didt=1e6)
    assert np.abs(np.einsum("ij,ij->i", pts, E)).max() < 1e-12 * np.abs(E).max() * 0.08


def test_curl_e_equals_minus_db_dt():
    """Faraday: curl E = −dB/dt, with B from the dipole formula (independent code path)."""
    pts, h, didt = _inside(50, 3), 1e-6, 1e6
    coil = tf.Coil(dipole_positions=POS, dipole_moments=MOM)
    jac = np.stack([(sphere_e_field(pts + h * e, POS, MOM, didt) - sphere_e_field(pts - h * e, POS, MOM, didt))
                    / (2 * h) for e in np.eye(3)], axis=1)
    curl = np.stack([jac[:, 1, 2] - jac[:, 2, 1], jac[:, 2, 0] - jac[:, 0, 2], jac[:, 0, 1] - jac[:, 1, 0]], axis=1)
    dbdt = coil.b_field(pts, current=didt, method="direct")
    assert np.linalg.norm(curl + dbdt) / np.linalg.norm(dbdt) < 1e-6


def test_divergence_free():
    pts, h = _inside(50, 5), 1e-6
    div = sum((sphere_e_field(pts + h * e, POS, MOM)[:, k] - sphere_e_field(pts - h * e, POS, MOM)[:, k]) / (2 * h)
              for k, e in enumerate(np.eye(3)))
    scale = np.abs(sphere_e_field(pts, POS, MOM)).max() / 0.08
    assert np.abs(div).max() < 1e-6 * scale
