"""Symmetric quadrature rules on a triangle: barycentric points (Q, 3) and weights (Q,) summing to 1."""
from __future__ import annotations

import functools

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


def _split(triangles: np.ndarray) -> np.ndarray:
    """Each triangle (T, 3, 3) (rows: corners, here barycentric) into its 4 midpoint children."""
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    ab, bc, ca = (a + b) / 2, (b + c) / 2, (c + a) / 2
    children = [(a, ab, ca), (ab, b, bc), (ca, bc, c), (ab, bc, ca)]
    return np.stack([np.stack(child, axis=1) for child in children], axis=1).reshape(-1, 3, 3)


def _touches(triangles: np.ndarray, shared: tuple[int, ...]) -> np.ndarray:
    """Which triangles (T, 3, 3) (barycentric corners) touch the parent's ``shared`` corners: one
    corner (a point) or two (the edge between them)."""
    if len(shared) not in (1, 2):
        raise ValueError(f"a facet shares one corner or one edge with its neighbour, got corners {shared}")
    if len(shared) == 1:
        return (triangles[:, :, shared[0]] == 1.0).any(axis=1)
    other = ({0, 1, 2} - set(shared)).pop()
    return (triangles[:, :, other] == 0.0).any(axis=1)


@functools.lru_cache(maxsize=64)
def graded_rule(points: int, level: int, shared: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The ``points``-point rule on a triangle subdivided ``level`` times towards its ``shared``
    corners (one corner index, or two: their edge): at each step only the sub-triangles touching
    them are split, so the rule resolves an integrand that varies fast there (the solid angle of
    a neighbouring facet sharing that vertex or edge) with 3·level + 1 (vertex) or 4, 13, 34
    (edge, levels 1-3) sub-triangles instead of 4**level. Barycentric points (P, 3) and weights
    summing to 1 (read-only arrays: the rules are cached).

    >>> bary, weights = graded_rule(3, 3, (0,))
    >>> len(bary) // 3, round(float(weights.sum()), 12)
    (10, 1.0)
    """
    bary, weights = TRIANGLE_RULES[points]
    done, active = [], np.eye(3)[None]
    for _ in range(level):
        children = _split(active)
        near = _touches(children, shared)
        done.append(children[~near])
        active = children[near]
    triangles = np.concatenate(done + [active])
    # sub-triangle areas relative to the parent: 4**-depth, from their barycentric determinants
    areas = np.abs(np.linalg.det(triangles))
    rule = (np.einsum("qj,tjd->tqd", bary, triangles).reshape(-1, 3), (areas[:, None] * weights[None, :]).ravel())
    for array in rule:
        array.flags.writeable = False
    return rule
