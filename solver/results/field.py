"""FieldResult: the induced electric field on a head mesh, with provenance; saved to and
loaded from files (.npz holds everything needed to restore it, .msh/.vtu are for viewers)."""
from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ...core.aabb import TriangleTree
from ...core.checks import check_choice
from ...core.errors import FileFormatError, TmsFieldError
from ...head_models.io import to_meshio, write_mesh
from ...head_models.surfaces import outer_boundary
from ...head_models.tissues import BRAIN_TAGS, GREY_MATTER, tissue_name
from ..recovery import node_average
from . import archive
from .provenance import provenance_record

INTERPOLATIONS = ("auto", "recovered", "native", "element")


def weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Percentile ``q`` (0–100) of ``values`` where each value counts with its ``weights``."""
    order = np.argsort(values)
    cdf = np.cumsum(weights[order])
    return float(values[order][min(np.searchsorted(cdf, q / 100 * cdf[-1]), len(values) - 1)])


@dataclasses.dataclass(eq=False)
class FieldResult:
    """Total induced field E = −∇φ − ∂A/∂t on a head mesh (SI units).

    Attributes
    ----------
    head : the HeadMesh solved on.
    E : (M, 3) field at each tetrahedron's centroid (V/m).
    E_corners : (M, 4, 3) recovered field at each tetrahedron's vertices, per tissue (V/m):
        continuous within a tissue, discontinuous across interfaces. Computed on first use
        by ``recover()`` (patch recovery costs about as much as the solve).
    native : callable (points (P, 3), element (P,), bary (P, 4)) → (P, 3): the solver's own
        field at points inside the given elements (FEM: −∇φ − ∂A/∂t there; BEM: E_p + E_charges).
    interpolation : what ``sample(..., interpolation="auto")`` uses ("native" or "recovered").
    phi : (N,) scalar potential (V) at the nodes (FEM: zero at one node).
    dadt : (n, 3) ∂A/∂t (V/m) at the solver's points (FEM: the DOFs, vertices first).
    unknowns : the solver's solution vector (FEM potential DOFs, BEM facet charges), used as
        the warm start of the next placement.
    sigma : (M,) or (M, 3, 3) conductivity per tetrahedron (S/m).
    pose : the CoilPose (or None).                 coil : the Coil solved for (or None).
    didt : coil dI/dt (A/s), per stimulator.
    provenance : versions, inputs and solver settings.  timings : seconds per stage.
    interfaces : BEM: the Interfaces the charges ``unknowns`` lie on (stored by ``save``); None: FEM.
    estimator : callable result → ErrorEstimate, the solver's a-posteriori error estimate
        (solver/results/error_estimate.py), run on first use of :attr:`error_estimate`; None: none.
    """
    head: object
    E: np.ndarray
    recover: Callable[[], np.ndarray] = dataclasses.field(repr=False)
    native: Callable = dataclasses.field(repr=False)
    interpolation: str
    phi: np.ndarray
    dadt: np.ndarray
    unknowns: np.ndarray = dataclasses.field(repr=False)
    sigma: np.ndarray
    pose: object = None
    coil: object = None
    didt: tuple = (1e6,)
    provenance: dict = dataclasses.field(default_factory=dict)
    timings: dict = dataclasses.field(default_factory=dict)
    interfaces: object = dataclasses.field(default=None, repr=False)
    estimator: Callable | None = dataclasses.field(default=None, repr=False)

    @functools.cached_property
    def E_corners(self) -> np.ndarray:
        """Recovered field per tissue at each tetrahedron's vertices, (M, 4, 3) in V/m."""
        return self.recover()

    @property
    def magnE(self) -> np.ndarray:
        """|E| per tetrahedron (V/m), shape (M,)."""
        return np.linalg.norm(self.E, axis=1)

    @property
    def J(self) -> np.ndarray:
        """Current density σE per tetrahedron (A/m²), shape (M, 3)."""
        if self.sigma.ndim == 3:
            return np.einsum("mij,mj->mi", self.sigma, self.E)
        return self.sigma[:, None] * self.E

    @property
    def E_nodes(self) -> np.ndarray:
        """Recovered field at the nodes (N, 3), volume-averaged over the tissues that meet
        there (for files and plots; use :meth:`sample` for values inside a tissue)."""
        return node_average(self.head.tets, self.head.volumes, self.E_corners, self.head.n_nodes)

    @property
    def tags(self) -> np.ndarray:
        """Tissue tag per tetrahedron, shape (M,)."""
        return self.head.tags

    def sample(self, points, *, interpolation: str = "auto") -> np.ndarray:
        """E (V/m) at ``points`` (P, 3) in metres, shape (P, 3); NaN outside the mesh.

        ``interpolation``: "recovered" (linear interpolation of the per-tissue recovered
        corner field: continuous inside a tissue), "native" (the solver's own field: FEM
        −∇φ − ∂A/∂t in the containing element, BEM primary plus charge field at the point),
        "element" (the centroid value), or "auto": the most accurate by the sphere studies —
        recovered for P1 (1.1 % vs 5.3 % native, 6 mm sphere), native for P2 (0.08 % vs
        0.6 % recovered) and for the BEM.
        """
        check_choice(interpolation, INTERPOLATIONS, "interpolation")
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] != 3:
            raise TmsFieldError(f"points must have shape (P, 3), got {points.shape}")
        if interpolation == "auto":
            interpolation = self.interpolation
        element, bary = self.head.locate(points)
        out = np.full(points.shape, np.nan)
        ok = element >= 0
        if interpolation == "element":
            out[ok] = self.E[element[ok]]
        elif interpolation == "native":
            out[ok] = self.native(points[ok], element[ok], bary[ok])
        else:
            out[ok] = np.einsum("pi,pik->pk", bary[ok], self.E_corners[element[ok]])
        return out

    def statistics(self) -> dict:
        """Per-tissue |E| statistics (V/m) and volumes: 99.9th percentile (robust peak),
        maximum, volume-weighted mean, and the volumes (cm³) above 50 % and 75 % of the peak
        (focality)."""
        vol, mag = self.head.volumes, self.magnE
        stats = {}
        for tag in self.head.tissue_tags:
            sel = self.tags == tag
            p999 = weighted_percentile(mag[sel], vol[sel], 99.9)
            stats[int(tag)] = {
                "tissue": tissue_name(tag),
                "p99.9_V_per_m": p999,
                "max_V_per_m": float(mag[sel].max()),
                "mean_V_per_m": float(np.average(mag[sel], weights=vol[sel])),
                "volume_above_half_peak_cm3": float(1e6 * vol[sel][mag[sel] >= 0.5 * p999].sum()),
                "volume_above_75pct_peak_cm3": float(1e6 * vol[sel][mag[sel] >= 0.75 * p999].sum()),
            }
        return stats

    @property
    def has_brain(self) -> bool:
        """Whether the head has white or grey matter (tags :data:`BRAIN_TAGS`)."""
        return bool(np.isin(self.tags, BRAIN_TAGS).any())

    @functools.cached_property
    def half_value_depth(self) -> float:
        """Half-value depth d½ (m) of Deng, Lisanby & Peterchev (Brain Stimul. 2013): the distance
        from the brain's outer (cortical) surface to the deepest brain element whose |E| is at
        least half the peak, the peak being the 99.9th percentile of |E| over the brain volume.

        The brain is the white and grey matter (tags :data:`BRAIN_TAGS`); depths are those of the
        element centroids, measured to the outer boundary of those tetrahedra (cavities such as
        ventricles excluded), so d½ is resolved to about the element size. Raises TmsFieldError
        for a head without brain tags (see :attr:`has_brain`). Computed on first use (~1 s for
        240k tetrahedra).
        """
        if not self.has_brain:
            raise TmsFieldError(f"{self.head.name!r} has no brain (tags {BRAIN_TAGS}: white and grey "
                                f"matter; it has tags {self.head.tissue_tags}): no half-value depth")
        brain = np.flatnonzero(np.isin(self.tags, BRAIN_TAGS))
        mag = self.magnE[brain]
        above = brain[mag >= 0.5 * weighted_percentile(mag, self.head.volumes[brain], 99.9)]
        surface = outer_boundary(self.head.nodes, self.head.tets[brain])
        return float(TriangleTree(self.head.nodes, surface).closest(self.head.centroids[above])[0].max())

    def peak(self) -> dict:
        """Where |E| is largest: the element with the largest |E| in the brain (tags
        :data:`BRAIN_TAGS`), or in the whole head without them. JSON-ready: its centroid in mm,
        |E| (V/m), tag and tissue."""
        region = np.flatnonzero(np.isin(self.tags, BRAIN_TAGS)) if self.has_brain else np.arange(len(self.E))
        element = int(region[np.argmax(self.magnE[region])])
        tag = int(self.tags[element])
        return {"position_mm": np.round(1e3 * self.head.centroids[element], 3).tolist(),
                "magnE_V_per_m": float(self.magnE[element]), "tag": tag, "tissue": tissue_name(tag),
                "region": "brain" if self.has_brain else "head"}

    def placement(self) -> dict | None:
        """Where the coil went (None without a pose), JSON-ready: centre (mm), handle direction
        y' and axis z' (unit, into the head), distance from the centre to the scalp (mm), the
        nearest scalp point (mm), and the scalp–cortex distance there: from that scalp point to
        the nearest point of the grey matter's outer boundary (mm; None without grey matter)."""
        return None if self.pose is None else self._placement_of(self.pose)

    def placements(self) -> list[dict]:
        """One :meth:`placement` record per coil, each with its coil name and dI/dt (A/s): several
        for coils fired together (``FEMSolver.solve_together``), one otherwise, none without a pose."""
        from ...coils.pose import CoilPose
        coils = self.provenance.get("coils")
        if coils:
            return [{"coil": c["coil"], "didt_A_per_s": c["didt_A_per_s"],
                     **self._placement_of(CoilPose.from_matsimnibs(c["matsimnibs_mm"]))} for c in coils]
        if self.pose is None:
            return []
        return [{"coil": self.provenance.get("coil"), "didt_A_per_s": list(self.didt), **self.placement()}]

    def _placement_of(self, pose) -> dict:
        distance, _, nearest = self.head.scalp.tree.closest(pose.center)
        grey = self.head.tets[self.tags == GREY_MATTER]
        cortex = None
        if len(grey):
            depth = TriangleTree(self.head.nodes, outer_boundary(self.head.nodes, grey)).closest(nearest)[0]
            cortex = round(1e3 * float(depth[0]), 3)
        return {"center_mm": np.round(1e3 * pose.center, 3).tolist(),
                "handle": np.round(pose.handle, 6).tolist(), "axis": np.round(pose.normal, 6).tolist(),
                "scalp_distance_mm": round(1e3 * float(distance[0]), 3),
                "nearest_scalp_point_mm": np.round(1e3 * nearest[0], 3).tolist(),
                "scalp_cortex_distance_mm": cortex}

    @property
    def didt_A_per_us(self) -> float | list[float]:
        """dI/dt in A/µs: a number, or one per stimulator for coils with several."""
        values = [1e-6 * v for v in self.didt]
        return values[0] if len(values) == 1 else values

    def roi_statistics(self, rois) -> list[dict]:
        """The statistics records of the regions of interest ``rois`` (SphereROI, MaskROI,
        CortexROI; solver/results/roi.py), for :meth:`summary` and :meth:`summary_record`."""
        return [roi.statistics(self) for roi in rois]

    @functools.cached_property
    def cortex(self) -> tuple:
        """(vertices (n, 3) m, triangles (k, 3), {"magnE", "E_normal", "E_tangential": (n,) V/m})
        on the grey-matter mid-surface (solver/results/cortex.py), computed on first use and
        shared by the cortex output and cortex-patch regions."""
        from .cortex import cortex_fields
        return cortex_fields(self)

    @functools.cached_property
    def error_estimate(self):
        """A-posteriori estimate of this field's error (solver/results/error_estimate.py): an
        :class:`~tmsfield.solver.results.error_estimate.ErrorEstimate` (per-element V/m and the
        relative L2 estimate over the brain), computed on first use by the solver's ``estimator``
        (FEM P1: recovery-based, P2: hierarchical; BEM: the field of the charge variation the
        constant facet charges miss), None for results without one."""
        return None if self.estimator is None else self.estimator(self)

    def summary(self, roi_statistics=()) -> str:
        """Human-readable table of :meth:`statistics`, the half-value depth, the coil placement,
        the peak, the regions of interest (records of :meth:`roi_statistics`) and the stage timings."""
        rows = [f"{'tag':>4} {'tissue':<14} {'|E| p99.9':>10} {'max':>9} {'mean':>9} {'V>50%':>9}",
                f"{'':>4} {'':<14} {'(V/m)':>10} {'(V/m)':>9} {'(V/m)':>9} {'(cm³)':>9}"]
        for tag, s in self.statistics().items():
            rows.append(f"{tag:>4} {s['tissue']:<14} {s['p99.9_V_per_m']:>10.4g} {s['max_V_per_m']:>9.4g} "
                        f"{s['mean_V_per_m']:>9.4g} {s['volume_above_half_peak_cm3']:>9.4g}")
        if self.has_brain:
            rows.append(f"depth d½ {1e3 * self.half_value_depth:.1f} mm below the cortical surface (the deepest "
                        "brain element with |E| ≥ 50 % of the brain's p99.9)")
        else:
            rows.append(f"depth d½: n/a (no brain tags {BRAIN_TAGS} in this head)")
        peak = self.peak()
        rows.append(f"peak |E| {peak['magnE_V_per_m']:.4g} V/m in {peak['tissue']} at {peak['position_mm']} mm "
                    f"(the {peak['region']}'s largest element value)")
        for where in self.placements():
            rows.append(f"coil {where['coil']!r} centre {where['center_mm']} mm, handle {where['handle']}, "
                        f"{where['scalp_distance_mm']:.2f} mm from the scalp (nearest scalp point "
                        f"{where['nearest_scalp_point_mm']} mm)"
                        + ("" if where["scalp_cortex_distance_mm"] is None else
                           f"; scalp-cortex distance there {where['scalp_cortex_distance_mm']:.1f} mm"))
        for fit in self.provenance.get("coil_fits", ()):
            moved = fit["adjustment"]
            shape = (f"deformation {[round(v, 2) for v in fit['deformation'].values()]} {fit['units']}, "
                     if fit["deformation"] else "")
            rows.append(f"coil {fit['coil']!r} fitted to the scalp: {shape}tilt "
                        f"{moved['rotation_deg']}°, shift {moved['shift_mm']} mm; closest element "
                        f"{fit['min_element_distance_mm']:.2f} mm, casing {fit['min_casing_distance_mm']:.2f} mm "
                        f"from the scalp ({fit['evaluations']} evaluations, {fit['seconds']:.1f} s)")
        for r in roi_statistics:
            size = f"{r['volume_cm3']:.3g} cm³" if "volume_cm3" in r else f"{r['area_cm2']:.3g} cm² of cortex"
            normal = (f", mean E·n {r['mean_E_normal_V_per_m']:.4g}, mean |E_t| {r['mean_E_tangential_V_per_m']:.4g}"
                      if "mean_E_normal_V_per_m" in r else "")
            rows.append(f"ROI {r['name']}: |E| mean {r['mean_V_per_m']:.4g}, median {r['median_V_per_m']:.4g}, "
                        f"p99 {r['p99_V_per_m']:.4g}, max {r['max_V_per_m']:.4g}{normal} V/m over {size}")
        estimate = self.error_estimate
        if estimate is not None:
            rows.append(f"estimated error {100 * estimate.relative:.2g} % (relative L2 over the {estimate.region}, "
                        f"{estimate.method}; largest element estimate "
                        f"{estimate.per_element.max():.3g} V/m)")
        times = ", ".join(f"{k} {v:.2f} s" for k, v in self.timings.items())
        settings = self.provenance.get("solver", {})
        didt = self.didt_A_per_us
        didt = f"{didt:.4g}" if isinstance(didt, float) else str([round(v, 6) for v in didt])
        head = f"E-field on {self.head.name!r} ({self.head.n_tets} tetrahedra), coil " \
               f"{self.provenance.get('coil', '?')!r}, dI/dt {didt} A/µs, " \
               f"{settings.get('method', '')}" + (f" P{settings['order']}" if "order" in settings else "")
        return "\n".join([head, *rows, f"time: {times}"])

    def plot(self, kind: str = "surface", **options):
        """A 3-D view of the field; returns a ``pyvista.Plotter`` (needs ``tmsfield[viz]``).

        ``kind``: "surface" (:func:`tmsfield.viz.plot_field`: E on the cortex or scalp with the
        coil; pass ``coil=`` to draw its windings), "slices" (:func:`~tmsfield.viz.plot_slices`)
        or "glyphs" (:func:`~tmsfield.viz.plot_glyphs`); ``options`` go to that function.
        Save a picture with ``tmsfield.viz.screenshot(plotter, "field.png", view="top")``.
        """
        from ... import viz
        plots = {"surface": viz.plot_field, "slices": viz.plot_slices, "glyphs": viz.plot_glyphs}
        return plots[check_choice(kind, plots, "kind")](self, **options)

    def save(self, path: str | os.PathLike) -> None:
        """Write the result atomically by extension.

        .npz : everything :meth:`load` needs to restore it (head, coil, pose, E, the solver's
               unknowns and ∂A/∂t, provenance; see :mod:`tmsfield.solver.results.archive`);
        .msh : gmsh 2.2 binary in mm with SimNIBS names (element data E, magnE, J, magnJ;
               node data v) so SimNIBS/gmsh open it; .vtu : ParaView, metres.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".npz":
            settings = self.provenance.get("solver", {})
            record = {"head_name": self.head.name, "interpolation": self.interpolation,
                      "solver": settings.get("method"), "order": settings.get("order"),
                      "coil_name": None if self.coil is None else self.coil.name,
                      "provenance": self.provenance, "timings": self.timings}
            arrays = {**archive.head_arrays(self.head), **archive.coil_arrays(self.coil),
                      "E": self.E, "phi": self.phi, "dadt": self.dadt, "unknowns": self.unknowns,
                      "sigma": self.sigma, "didt": np.asarray(self.didt, dtype=float),
                      "pose_matrix": None if self.pose is None else self.pose.matrix,
                      **archive.interface_arrays(self.interfaces)}
            archive.write_archive(path, "FieldResult", arrays, record)
            return
        if suffix not in (".msh", ".vtu"):
            raise FileFormatError(f"{path}: unsupported result format; use .msh, .vtu or .npz")
        cells = {"E": self.E, "magnE": self.magnE, "J": self.J, "magnJ": np.linalg.norm(self.J, axis=1)}
        points = {"v": self.phi, "E_nodes": self.E_nodes}
        mesh = to_meshio(self.head, units="mm" if suffix == ".msh" else "m", cell_data=cells,
                         point_data=points)
        write_mesh(mesh, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> FieldResult:
        """Restore a result from a .npz written by :meth:`save` or from a ``tmsfield simulate``
        output folder (see :func:`tmsfield.load_result`), with its head, coil and pose.

        ``sample`` works with every interpolation: the FEM field space is rebuilt from the
        stored element order, potential DOFs and ∂A/∂t; the BEM charge field from the head's
        interfaces (conductivity overrides from the provenance) and the stored coil and pose.
        ``E_corners`` is recomputed on first use, as for a fresh result.
        """
        from .load import load_result
        result = load_result(path)
        if not isinstance(result, cls):
            raise FileFormatError(f"{path}: holds a {type(result).__name__}, not a {cls.__name__}")
        return result

    def provenance_record(self) -> dict:
        """Provenance plus timings and the pose, as JSON-ready data."""
        return provenance_record(self)

    def summary_record(self, roi_statistics=()) -> dict:
        """:meth:`statistics` (by tag), the half-value depth in mm (None without brain tags) and
        :meth:`provenance_record`, as JSON-ready data (``tmsfield simulate`` writes summary.json),
        with :meth:`peak`, :meth:`placement`, dI/dt in A/µs (:attr:`didt_A_per_us`) and the
        regions of interest's records (:meth:`roi_statistics`) and the :attr:`error_estimate`
        (P1 FEM; None otherwise)."""
        depth = 1e3 * self.half_value_depth if self.has_brain else None
        estimate = self.error_estimate
        return {"didt_A_per_us": self.didt_A_per_us, "placement": self.placement(), "placements": self.placements(),
                "peak": self.peak(),
                "statistics": self.statistics(), "half_value_depth_mm": depth,
                "error_estimate": None if estimate is None else estimate.record(),
                "rois": list(roi_statistics), "provenance": self.provenance_record()}



def field_from_archive(record: dict, arrays: dict, path) -> FieldResult:
    """The FieldResult stored by :meth:`FieldResult.save` as .npz (``record`` and ``arrays`` from
    :func:`archive.read_archive`), with its native field and recovery rebuilt."""
    from . import restore
    need = functools.partial(archive.need, path=path)
    head = archive.head_from(arrays, record, path)
    coil, pose = archive.coil_from(arrays, record, path), archive.pose_from(arrays)
    didt = tuple(float(v) for v in need(arrays, "didt"))
    E = need(arrays, "E")
    provenance = archive.restore_keys(dict(record.get("provenance") or {}))
    solver, interfaces = record.get("solver"), archive.interfaces_from(arrays)
    if solver == "fem":
        native, recover, estimator = restore.fem(head, record["order"], need(arrays, "unknowns"), need(arrays, "dadt"))
    elif solver == "bem":
        native, recover, estimator = restore.bem(head, provenance, need(arrays, "unknowns"), coil, pose, didt, E,
                                                 interfaces)
    else:
        native, recover, estimator = restore.none()
    if len(E) != head.n_tets:
        raise FileFormatError(f"{path}: E has {len(E)} rows for {head.n_tets} tetrahedra")
    return FieldResult(head=head, E=E, recover=recover, native=native, interpolation=record["interpolation"],
                       phi=arrays.get("phi"), dadt=arrays.get("dadt"), unknowns=arrays.get("unknowns"),
                       sigma=need(arrays, "sigma"), pose=pose, coil=coil, didt=didt, provenance=provenance,
                       timings=dict(record.get("timings") or {}), estimator=estimator,
                       interfaces=interfaces)
