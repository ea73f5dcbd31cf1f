"""Closed-form fields of a circular current loop (radius R in the z=0 plane, current I),
used as an independent reference. Elliptic integrals in scipy's parameter convention m = k².
Jackson, Classical Electrodynamics, 3rd ed., §5.5; Simpson et al., NASA/TM-2001-210391."""
import numpy as np
from scipy.special import ellipe, ellipk

MU0 = 4e-7 * np.pi


def _cyl(points):
    x, y, z = np.asarray(points, float).T
    rho = np.hypot(x, y)
    return x, y, z, rho


def loop_b(points, radius, current=1.0):
    """B (T) of the loop, shape (P, 3); valid off the wire, including the axis."""
    x, y, z, rho = _cyl(points)
    a2 = radius**2 + rho**2 + z**2 + 2 * radius * rho
    b2 = a2 - 4 * radius * rho
    m = 4 * radius * rho / a2
    c = MU0 * current / np.pi
    E, K = ellipe(m), ellipk(m)
    bz = c / (2 * b2 * np.sqrt(a2)) * ((radius**2 - rho**2 - z**2) * E + b2 * K)
    safe = np.where(rho > 0, rho, 1.0)
    brho = np.where(rho > 0, c * z / (2 * b2 * np.sqrt(a2) * safe) * ((radius**2 + rho**2 + z**2) * E - b2 * K), 0.0)
    return np.stack([brho * x / safe, brho * y / safe, bz], axis=1)


def loop_a(points, radius, current=1.0):
    """A (T·m) of the loop, azimuthal, shape (P, 3); points off the axis."""
    x, y, z, rho = _cyl(points)
    m = 4 * radius * rho / ((radius + rho) ** 2 + z**2)
    k = np.sqrt(m)
    a_phi = MU0 * current / (np.pi * k) * np.sqrt(radius / rho) * ((1 - m / 2) * ellipk(m) - ellipe(m))
    return np.stack([-a_phi * y / rho, a_phi * x / rho, np.zeros_like(rho)], axis=1)
