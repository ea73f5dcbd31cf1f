"""Symmetric quadrature rules on a triangle: barycentric points (Q, 3) and weights (Q,) summing to 1."""
from __future__ import annotations

import numpy as np


def _orbit3(a: float) -> np.ndarray:
    """The three points (a, b, b), (b, a, b), (b, b, a) with b = (1 − a)/2."""
    b = 0.5 * (1.0 - a)
    return np.array([[a, b, b], [b, a, b], [b, b, a]])


#: points -> (barycentrics, weights): 1 = centroid (degree 1); 3 = Strang & Fix degree 2;
#: 6 = Dunavant (1985, IJNME 21:1129) degree 4
TRIANGLE_RULES = {
    1: (np.full((1, 3), 1.0 / 3.0), np.ones(1)),
    3: (_orbit3(2.0 / 3.0), np.full(3, 1.0 / 3.0)),
    6: (np.vstack([_orbit3(0.108103018168070), _orbit3(0.816847572980459)]),
        np.repeat([0.223381589678011, 0.109951743655322], 3)),
}
