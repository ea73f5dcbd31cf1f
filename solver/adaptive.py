"""Adaptive refinement to a requested error in a region: solve, estimate, refine where the
estimate says, repeat.

BEM (:func:`adaptive_bem`): the facets whose charge variation contributes most to the estimated
error in the region (solver/bem/error_estimate.py, ``facet_indicators``), as many as carry
``bulk`` of the squared indicators (Dörfler marking), are split in four with a conforming
closure (head_models/surface_refine.py); new vertices are moved onto the smooth surfaces by
``project`` where the caller knows them (e.g. spheres), else stay on the flat facets. Each
step starts GMRES from the previous charges.
FEM (:func:`adaptive_fem`): the elements carrying ``bulk`` of the squared hierarchical/recovery
estimate within ``zone`` of the region get half their size; the head's nested interface
surfaces are refined where their neighbouring elements shrink, and gmsh remeshes the volume
with those sizes (head_models/from_surfaces.py, a size callback). Heads whose compartments
are not nested (each tissue enclosing the previous) cannot be remeshed this way and are refused.

Both stop when the estimate over the region (relative L2: ‖η‖/‖E‖ over its points or elements)
is at most ``tolerance``, or after ``max_steps`` refinements, or before exceeding ``max_size``
facets or elements; the result's ``provenance["adaptive"]`` records every step (size, estimate,
seconds: the refinement or remeshing that made the step's model, its set-up, solve and estimate)
and whether the tolerance was reached.
"""
from __future__ import annotations

import logging
import time

import numpy as np

from ..core.errors import MeshError
from ..core.progress import progress, stages_shown
from ..head_models.from_surfaces import from_surfaces
from .options import AdaptiveOptions

log = logging.getLogger("tmsfield")


def dorfler_marking(indicators: np.ndarray, bulk: float) -> np.ndarray:
    """The fewest entries (bool (n,)) whose squared ``indicators`` sum to ``bulk`` of the total."""
    squared = np.asarray(indicators, dtype=float) ** 2
    order = np.argsort(squared)[::-1]
    count = int(np.searchsorted(np.cumsum(squared[order]), bulk * squared.sum())) + 1
    marked = np.zeros(len(squared), dtype=bool)
    marked[order[:count]] = True
    return marked


def _record(steps, size, estimate, started):
    steps.append({"size": int(size), "estimate": round(float(estimate), 6),
                  "seconds": round(time.perf_counter() - started, 2)})
    log.info("adaptive step %d: %d, estimate %.3g %%", len(steps) - 1, size, 100 * estimate)


def _finish(result, steps, options, kind):
    result.provenance["adaptive"] = {"tolerance": options.tolerance, "refined": kind, "steps": steps,
                                     "reached": steps[-1]["estimate"] <= options.tolerance}
    return result


def adaptive_bem(model, coil, pose, *, roi_points: np.ndarray, didt=1e6, options: AdaptiveOptions,
                 project=None, solver_options=None, conductivities=None, backend="auto", verbose=None):
    """BEM on ``model`` (a HeadMesh or Interfaces) refined until the estimate at ``roi_points``
    (P, 3) m is at most ``options.tolerance``. ``project``: callable moving new vertices (n, 3) m
    onto the smooth surfaces (None: they stay on the facets). Returns the last result
    (FieldResult on a HeadMesh, else SurfaceFieldResult) with ``provenance["adaptive"]``."""
    from .bem.error_estimate import ChargeErrorField
    from .bem.interfaces import Interfaces
    from .bem.solver import BEMSolver
    head = None if isinstance(model, Interfaces) else model
    surf = model if head is None else Interfaces.from_head(head, conductivities)
    roi_points = np.asarray(roi_points, dtype=float)
    steps, initial, started = [], None, time.perf_counter()
    with progress(total=options.max_steps + 1, desc="adaptive BEM", verbose=stages_shown(verbose)) as bar:
        for step in range(options.max_steps + 1):
            solver = (BEMSolver(surf, options=solver_options, backend=backend) if head is None else
                      BEMSolver(head, interfaces=surf, conductivities=conductivities, options=solver_options,
                                backend=backend))
            result = solver.solve(coil, pose, didt=didt, initial=initial)
            density = result.unknowns
            error_field = ChargeErrorField(solver.charges, density)
            estimate = np.linalg.norm(error_field.field(roi_points)) / np.linalg.norm(result.sample(roi_points))
            _record(steps, surf.n_facets, estimate, started)
            started = time.perf_counter()
            bar.update(1)
            if estimate <= options.tolerance or step == options.max_steps:
                break
            marked = dorfler_marking(error_field.facet_indicators(roi_points), options.bulk)
            refined, parent = surf.refined(marked, project)
            if refined.n_facets > options.max_size:
                log.warning("adaptive BEM: the next step would have %d facets (max_size %d): stopped at %.3g %%",
                            refined.n_facets, options.max_size, 100 * estimate)
                break
            surf, initial = refined, density[parent]
    return _finish(result, steps, options, "facets")


def adaptive_fem(head, coil, pose, *, roi, didt=1e6, options: AdaptiveOptions,
                 project=None, solver_options=None, conductivities=None, backend="auto", verbose=None):
    """FEM on ``head`` remeshed until the error estimate over the elements of ``roi`` (a region
    with ``elements(head)``: SphereROI, MaskROI, CortexROI; found again on every new mesh) is at
    most ``options.tolerance``; ``project`` as for :func:`adaptive_bem` (applied to the interface
    surfaces). Returns the last FieldResult (on the last mesh) with ``provenance["adaptive"]``."""
    from .fem.solver import FEMSolver
    surfaces, tags = nested_surfaces_of(head)
    steps, started = [], time.perf_counter()
    with progress(total=options.max_steps + 1, desc="adaptive FEM", verbose=stages_shown(verbose)) as bar:
        for step in range(options.max_steps + 1):
            solver = FEMSolver(head, conductivities=conductivities, options=solver_options, backend=backend)
            result = solver.solve(coil, pose, didt=didt)
            eta, roi_elements = result.error_estimate.per_element, roi.elements(head)
            volumes, energy = head.volumes[roi_elements], (result.E[roi_elements] ** 2).sum(axis=1)
            estimate = float(np.sqrt((volumes * eta[roi_elements] ** 2).sum() / (volumes * energy).sum()))
            _record(steps, head.n_tets, estimate, started)
            started = time.perf_counter()
            bar.update(1)
            if estimate <= options.tolerance or step == options.max_steps:
                break
            roi_center = head.centroids[roi_elements].mean(axis=0)
            reach = np.linalg.norm(head.centroids[roi_elements] - roi_center, axis=1).max() + options.zone
            zone = np.flatnonzero(np.linalg.norm(head.centroids - roi_center, axis=1) <= reach)
            marked = zone[dorfler_marking(eta[zone] * np.sqrt(head.volumes[zone]), options.bulk)]
            if head.n_tets + 7 * len(marked) > options.max_size:       # a halved element becomes ~8
                log.warning("adaptive FEM: the next mesh would exceed max_size %d elements: stopped at %.3g %%",
                            options.max_size, 100 * estimate)
                break
            sizes = _element_sizes(head)
            sizes[marked] *= 0.5
            target = _node_size_field(head, sizes)
            surfaces = [_refined_surface(v, f, target, project) for v, f in surfaces]
            head = from_surfaces(surfaces, tags, size=target, name=head.name)
    return _finish(result, steps, options, "elements")


def _element_sizes(head) -> np.ndarray:
    """Mean edge length of each element (M,) m (what gmsh's target sizes mean)."""
    corners = head.nodes[head.tets]
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    return np.mean([np.linalg.norm(corners[:, a] - corners[:, b], axis=1) for a, b in pairs], axis=0)


def _node_size_field(head, sizes):
    """A callable points (n, 3) m → target sizes (n,) m: at the nearest node of ``head``, the
    smallest of ``sizes`` (M,) over the elements around it."""
    from scipy.spatial import cKDTree
    at_nodes = np.full(head.n_nodes, np.inf)
    for k in range(4):
        np.minimum.at(at_nodes, head.tets[:, k], sizes)
    tree = cKDTree(head.nodes)
    return lambda points: at_nodes[tree.query(points)[1]]


def _refined_surface(vertices, faces, target, project):
    """A surface with its triangles split where the size field ``target`` at their vertices is
    below three quarters of the triangle's mean edge."""
    from ..head_models.surface_refine import refine_triangles
    target = target(vertices)
    corners = vertices[faces]
    mean_edge = np.linalg.norm(corners - np.roll(corners, 1, axis=1), axis=2).mean(axis=1)
    marked = target[faces].min(axis=1) < 0.75 * mean_edge
    if not marked.any():
        return vertices, faces
    vertices, faces, _ = refine_triangles(vertices, faces, marked, project)
    return vertices, faces


def nested_surfaces_of(head):
    """The interface surfaces of a head whose compartments are nested, innermost first, and the
    tag of each compartment: ([(vertices (n, 3) m, faces (k, 3))], [tags]). MeshError when a
    tissue touches more than the ones just inside and outside it."""
    from ..head_models.surfaces import boundary_faces, tet_faces
    outer, outer_tag, _, lo, hi = tet_faces(head.tets, head.tags)
    touching = {tuple(p) for p in np.unique(np.stack([lo, hi], axis=1), axis=0).tolist()}
    order = [int(t) for t in np.unique(outer_tag)]
    if len(order) != 1:
        raise MeshError(f"adaptive FEM remeshes nested compartments; tissues {order} all touch the outside")
    remaining = set(np.unique(head.tags).tolist()) - set(order)
    while remaining:
        inner = [t for t in remaining if tuple(sorted((t, order[-1]))) in touching]
        if len(inner) != 1:
            raise MeshError(f"adaptive FEM remeshes nested compartments; tissue {order[-1]} touches "
                            f"{sorted(inner) or 'none'} of the tissues {sorted(remaining)} inside it")
        order.append(inner[0])
        remaining.discard(inner[0])
    tags = order[::-1]                                                     # innermost first
    skipping = [p for p in touching if abs(tags.index(p[0]) - tags.index(p[1])) > 1]
    if skipping:
        raise MeshError(f"adaptive FEM remeshes nested compartments; tissues {list(skipping[0])} touch across "
                        f"the layers between them (order from inside: {tags})")
    surfaces = []
    for i in range(len(tags)):
        faces, _ = boundary_faces(head.tets[np.isin(head.tags, tags[:i + 1])])
        used, compact = np.unique(faces, return_inverse=True)
        surfaces.append((head.nodes[used], compact.reshape(-1, 3)))
    return surfaces, tags
