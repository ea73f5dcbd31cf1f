"""BEM vs FEM on a real three-shell head: the induced field on the cortex of one subject.

Writes validation/results/bem_fem_head.{md,json}. Run from the repository root:
``python -m tmsfield.validation.bem_fem_head`` (``--quick``: no refined models, one placement).

Head: Wakeman & Henson subject 1 as shipped with hbf_sampledata (SPM three-shell BEM model:
inner skull, outer skull, scalp, 2562 vertices / 5120 triangles each, ~6 mm edges; see
SOURCE.txt next to the .mat). Compartments: brain as grey matter (tag 2, 0.275 S/m), bone
(4, 0.01 S/m), scalp (5, 0.465 S/m). Both solvers see exactly the same piecewise-flat
geometry: the BEM its triangles, the FEM a boundary-conforming tetrahedralisation of them.

Models (all on that geometry):
- BEM 6 mm: ``Interfaces.from_surfaces`` on the triangles as given (15360 facets);
- BEM 3 mm: every triangle split into four at its edge midpoints (61440 facets; the split
  is flat, so the geometry is unchanged and only the charge discretisation is refined);
- FEM P2: ``from_surfaces`` with gmsh's default sizes (volume follows the surface
  triangles), and refined variants with ``edge_length`` 4 and 3 mm.
E is sampled at the 20484 cortex vertices (inside the inner skull; 0.85–58 mm from it):
BEM ``SurfaceFieldResult.sample`` (primary + charge field at the point), FEM
``FieldResult.sample`` (native P2 −∇φ − ∂A/∂t in the containing tetrahedron).
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.io

import tmsfield as tf
from tmsfield.core.aabb import TriangleTree
from tmsfield.core.files import write_text_atomic
from tmsfield.head_models.surfaces import point_distances
from tmsfield.solver.bem import BEMSolver, Interfaces
from tmsfield.solver.fem.solver import FEMSolver

#: defaults relative to the repository root (the working directory of the study)
DATA = Path("../shared/data/heads/wh_sub01_3shell/hbf_samplehead_3shell_wh.mat")
RESULTS = Path("validation/results")
TAGS = (2, 4, 5)                      # brain (as grey matter), bone, scalp
DIDT = 1e6                            # A/s
COIL_DISTANCE = 0.004                 # m, coil bottom to scalp
FEM_EDGES_MM = (4.0, 3.0)             # refined FEM variants (edge_length); the last is the reference
#: distance-to-inner-skull bands (mm) of the breakdown
BANDS_MM = ((0.0, 2.0), (2.0, 5.0), (5.0, 10.0), (10.0, np.inf))
HOT_FRACTION = 0.5                    # "hot" region: |E_ref| > 50 % of its maximum on the cortex


# --- data and geometry -----------------------------------------------------------------
def load(path: Path):
    """(surfaces [(vertices m, faces 0-based)] innermost first, cortex vertices (P, 3) m)."""
    mat = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)
    surfaces = [(np.asarray(b.p, float), np.asarray(b.e, np.int64) - 1) for b in mat["bmeshes"]]
    return surfaces, np.asarray(mat["cortex"].p, float)


def split4(vertices, faces):
    """Each triangle split into four at its edge midpoints (same flat geometry, half the edges)."""
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    unique, inverse = np.unique(edges, axis=0, return_inverse=True)
    m01, m12, m20 = (len(vertices) + np.ravel(inverse)).reshape(3, -1)
    a, b, c = faces.T
    new = np.vstack([vertices, 0.5 * (vertices[unique[:, 0]] + vertices[unique[:, 1]])])
    return new, np.vstack([np.c_[a, m01, m20], np.c_[m01, b, m12], np.c_[m20, m12, c], np.c_[m01, m12, m20]])


def surface_distance(points, vertices, faces):
    """Exact distance (P,) m from points to a triangle surface."""
    return TriangleTree(vertices, faces).closest(points)[0]


def check_distance(points, vertices, faces, distance, every: int = 400):
    """Largest disagreement (m) with the brute-force distance over all facets, every ``every``-th point."""
    sub = points[::every]
    corners = vertices[faces]
    brute = point_distances(sub, np.broadcast_to(corners, (len(sub),) + corners.shape)).min(axis=1)
    return float(np.max(np.abs(brute - distance[::every])))


# --- coil placements ---------------------------------------------------------------------
def placements(head, cortex):
    """name -> (CoilPose, description). The cortex's highest vertex lies near the midline; the
    motor-like spot is the scalp point nearest to it shifted 35 mm to the left (-x), the
    frontal one the scalp point nearest to the cortex's centre + 100 mm along (-1, 1, 1)/√3."""
    top = cortex[np.argmax(cortex[:, 2])]
    motor = top + [-0.035, 0.0, 0.0]
    frontal = 0.5 * (cortex.min(axis=0) + cortex.max(axis=0)) + 0.1 * np.array([-1.0, 1.0, 1.0]) / np.sqrt(3)
    out = {}
    for name, center, handle, what in (
            ("left motor-like", motor, (-1.0, -1.0, 0.0),
             (f"scalp point nearest to the highest cortex vertex {_mm(top)} mm shifted 35 mm to −x, i.e. "
             f"to {_mm(motor)} mm; handle towards (−1, −1, 0) (posterior-lateral, 45° to the midline)")),
            ("left frontal", frontal, (0.0, -1.0, 0.0),
             (f"scalp point nearest to the cortex bounding-box centre + 100 mm along (−1, 1, 1)/√3, i.e. "
             f"to {_mm(frontal)} mm; handle towards −y (posterior)"))):
        pose = tf.CoilPose.on_head(head, center=center, handle=handle, distance=COIL_DISTANCE)
        out[name] = (pose, what)
    return out


def _mm(p):
    return "(" + ", ".join(f"{1e3 * v:.1f}" for v in p) + ")"


# --- models --------------------------------------------------------------------------------
def run_bem(label, surfaces, coil, poses, cortex):
    """{"E": {placement: (P, 3)}, "info": {...}} for a BEM on ``surfaces``."""
    t0 = time.perf_counter()
    surf = Interfaces.from_surfaces(surfaces, tags=TAGS)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    solver = BEMSolver(surf)
    setup = time.perf_counter() - t0
    info = {"model": label, "kind": "BEM", "n_facets": surf.n_facets, "mean_edge_mm": 1e3 * surf.mean_edge_length,
            "far_field": solver.charges.far_field, "build_s": build, "setup_s": setup,
            "setup_stages_s": dict(solver.timings), "placements": {}}
    fields = _solve_placements(solver, coil, poses, cortex, info)
    del solver
    gc.collect()
    return {"E": fields, "info": info}


def run_fem(label, surfaces, edge_length, coil, poses, cortex):
    """As run_bem, for P2 FEM on the tetrahedralised surfaces."""
    t0 = time.perf_counter()
    head = tf.head_models.from_surfaces(surfaces, tags=TAGS, edge_length=edge_length)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    solver = FEMSolver(head, order=2)
    setup = time.perf_counter() - t0
    info = {"model": label, "kind": "FEM", "n_tets": head.n_tets, "n_dofs": solver.space.n_dofs,
            "mean_edge_mm": 1e3 * head.mean_edge_length, "build_s": build, "setup_s": setup,
            "setup_stages_s": dict(solver.timings), "placements": {}}
    element, _ = head.locate(cortex)
    info["cortex_outside_mesh"] = int(np.sum(element < 0))
    info["cortex_not_in_brain"] = int(np.sum(head.tags[element[element >= 0]] != TAGS[0]))
    fields = _solve_placements(solver, coil, poses, cortex, info)
    del solver, head
    gc.collect()
    return {"E": fields, "info": info}


def _solve_placements(solver, coil, poses, cortex, info):
    """E on the cortex per placement; timings and solver figures into info["placements"]. The
    BEM placement check is reported apart from the solve ("check" in the report)."""
    fields = {}
    for name, pose in poses.items():
        t0 = time.perf_counter()
        res = solver.solve(coil, pose, didt=DIDT)
        solve = time.perf_counter() - t0
        t0 = time.perf_counter()
        E = res.sample(cortex)
        record = {"solve_s": solve, "sample_s": time.perf_counter() - t0, "nan": int(np.isnan(E).any(axis=1).sum()),
                  "iterations": res.provenance["solver"]["iterations"], "residual": res.provenance["solver"]["residual"],
                  "primary_s": res.timings["primary field"], "linear_s": res.timings["solve"]}
        if "placement check" in res.timings:
            record["check_s"] = res.timings["placement check"]
            record["solve_s"] -= record["check_s"]
        info["placements"][name] = record
        fields[name] = E
        _progress(info, name)
    return fields


def _progress(info, name):
    p = info["placements"][name]
    check = f"  check {p['check_s']:5.1f} s" if "check_s" in p else ""
    print(f"{info['model']:<14} {name:<16} setup {info['setup_s']:6.1f} s  solve {p['solve_s']:6.1f} s{check}  "
          f"sample {p['sample_s']:5.1f} s  {p['iterations']} its", flush=True)


# --- comparison ----------------------------------------------------------------------------
def compare(E, E_ref, cortex, distance):
    """Differences of E (P, 3) from E_ref over the cortex vertices."""
    rel = lambda s: float(np.linalg.norm(E[s] - E_ref[s]) / np.linalg.norm(E_ref[s]))
    mag, mag_ref = np.linalg.norm(E, axis=1), np.linalg.norm(E_ref, axis=1)
    diff = np.linalg.norm(E - E_ref, axis=1)
    peak = float(mag_ref.max())
    hot = mag_ref > HOT_FRACTION * peak
    p_test, p_ref = float(np.percentile(mag, 99.9)), float(np.percentile(mag_ref, 99.9))
    i = int(np.argmax(diff))
    out = {"rel_l2_all": rel(slice(None)), "rel_l2_hot": rel(hot), "n_hot": int(hot.sum()),
           "hot_distance_mm": [float(1e3 * distance[hot].min()), float(1e3 * distance[hot].max())],
           "p999": p_test, "p999_ref": p_ref, "p999_rel_diff": (p_test - p_ref) / p_ref,
           "max_ref": peak, "max_diff": float(diff[i]), "max_diff_rel_peak": float(diff[i] / peak),
           "max_diff_at_mm": (1e3 * cortex[i]).tolist(), "max_diff_distance_mm": float(1e3 * distance[i]),
           "max_diff_magE_ref": float(mag_ref[i]), "max_diff_magE": float(mag[i]),
           "hot_max_diff_rel_peak": float(diff[hot].max() / peak), "bands": []}
    for lo, hi in BANDS_MM:
        sel = (1e3 * distance >= lo) & (1e3 * distance < hi)
        out["bands"].append({"from_mm": lo, "to_mm": None if np.isinf(hi) else hi, "n": int(sel.sum()),
                             "rel_l2": rel(sel) if sel.any() else None,
                             "rel_l2_hot": rel(sel & hot) if (sel & hot).any() else None,
                             "n_hot": int((sel & hot).sum()),
                             "max_diff_rel_peak": float(diff[sel].max() / peak) if sel.any() else None})
    return out


# --- report ----------------------------------------------------------------------------------
def _git():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, check=True).stdout.strip()
        return head + (" (+ uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def markdown(meta, models, placements_info, comparisons):
    pct = lambda v: "–" if v is None else f"{100 * v:.2f} %"
    lines = ["# BEM vs FEM on a real three-shell head (Wakeman & Henson subject 1)", "",
             (f"Run {meta['date']} on {meta['machine']}: `{meta['command']}` (tmsfield {meta['version']}, git "
             f"{meta['git']}; numpy {meta['numpy']}, Python {meta['python']})."),
             (f"Data: `{meta['data']}` (sha256 {meta['sha256'][:16]}…; SOURCE.txt beside it): SPM three-shell "
             "model (inner skull, outer skull, scalp; 2562 vertices / 5120 triangles each, mean edges "
             f"{', '.join(f'{e:.1f}' for e in meta['surface_edges_mm'])} mm) and its 20484-vertex cortex surface."),
             ("Compartments: brain as grey matter (tag 2, 0.275 S/m), bone (4, 0.01 S/m), scalp (5, 0.465 S/m). "
             f"Coil `{meta['coil']}` (wire model), dI/dt = {DIDT:g} A/s, {1e3 * COIL_DISTANCE:g} mm from the scalp; "
             "the same pose for every model."), "",
             "E is compared at the cortex vertices (all inside the brain compartment, "
             f"{meta['cortex_distance_mm'][0]:.2f}–{meta['cortex_distance_mm'][1]:.1f} mm from the inner skull, "
             f"median {meta['cortex_distance_mm'][2]:.1f} mm; "
             + ", ".join(f"{b['n']} vertices {_band(b)}" for b in meta["cortex_bands"]) + "). "
             "Distances are exact point-to-triangle distances to the inner-skull surface "
             f"(checked against all facets on every 400th vertex: {meta['distance_check_m']:.1e} m).", "",
             ("Models (same piecewise-flat geometry throughout: the 3 mm BEM splits every triangle flat into four; "
             "the FEM meshes are boundary-conforming tetrahedralisations of the given triangles):"), "",
             "| model | size | mean edge (mm) | build (s) | setup (s) | solve per placement (s) | BEM placement check (s) | sample 20k pts (s) | iterations |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for m in models:
        size = (f"{m['n_facets']} facets ({m['far_field']} far field)" if m["kind"] == "BEM"
                else f"{m['n_tets']} tets, {m['n_dofs']} P2 DOFs")
        solves = " / ".join(f"{p['solve_s']:.1f}" for p in m["placements"].values())
        samples = " / ".join(f"{p['sample_s']:.1f}" for p in m["placements"].values())
        its = " / ".join(str(p["iterations"]) for p in m["placements"].values())
        checks = " / ".join(f"{p['check_s']:.1f}" for p in m["placements"].values()) if m["kind"] == "BEM" else "–"
        lines.append(f"| {m['model']} | {size} | {m['mean_edge_mm']:.2f} | {m['build_s']:.1f} | {m['setup_s']:.1f} | "
                     f"{solves} | {checks} | {samples} | {its} |")
    lines += ["", "build: surfaces → Interfaces (BEM) or gmsh tetrahedralisation (FEM). setup: BEM near-field "
              "integrals, far-field matrix and ILU; FEM P2 assembly and AMG. solve: primary field + GMRES (BEM, "
              "tol 1e-6) or load vector + CG + centroid field (FEM, tol 1e-10 default). BEM placement check: "
              "BEMSolver.check_placement (coil inside the scalp / windings cutting a surface), timed apart from "
              "the solve; its time is almost all scipy's Delaunay.transform in head_models.surfaces.inside_surface "
              "(one small LAPACK call per simplex), which takes 0.006 s single-threaded but up to minutes with "
              "multi-threaded OpenBLAS when the cores are busy (measured outside this script). The machine "
              "has 2 cores shared with other jobs: timings are indicative. Values per placement "
              "separated by /. FEM NaN samples (cortex vertices outside the mesh): "
              + ", ".join(f"{m['model']} {sum(p['nan'] for p in m['placements'].values())}"
                          for m in models if m["kind"] == "FEM") + "; vertices located outside the brain "
              "compartment: " + ", ".join(f"{m['model']} {m['cortex_not_in_brain']}" for m in models if m["kind"] == "FEM")
              + ".", "", "Placements:", ""]
    for name, p in placements_info.items():
        lines.append(f"- **{name}**: {p['description']}. Coil centre {p['center_mm']} mm, axis into the head "
                     f"{p['axis']}.")
    lines += ["", "## Differences on the cortex", "",
              ("rel. L2 = ‖E − E_ref‖/‖E_ref‖ over the vertices (all, or the *hot* ones with |E_ref| > 50 % of "
              "max |E_ref|). p99.9 = 99.9th percentile of |E| over the vertices (unweighted). max |ΔE| = largest pointwise "
              "|E − E_ref|, as a fraction of max |E_ref|, with where it occurs (mm, distance d to the inner skull, "
              "|E_ref| there)."), ""]
    for name in placements_info:
        lines += [f"### {name}", "",
                  "| test | reference | rel. L2 all | rel. L2 hot (n) | p99.9 test / ref (V/m) | Δ p99.9 | max \\|ΔE\\| / max \\|E_ref\\| | at (mm) | d (mm) | \\|E_ref\\| there (V/m) | \\|E\\| there (V/m) | max \\|ΔE\\| hot |",
                  "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
        for c in comparisons[name]:
            r = c["result"]
            lines.append(f"| {c['test']} | {c['reference']} | {pct(r['rel_l2_all'])} | {pct(r['rel_l2_hot'])} ({r['n_hot']}) | "
                         f"{r['p999']:.4f} / {r['p999_ref']:.4f} | {100 * r['p999_rel_diff']:+.2f} % | "
                         f"{pct(r['max_diff_rel_peak'])} | ({', '.join(f'{v:.1f}' for v in r['max_diff_at_mm'])}) | "
                         f"{r['max_diff_distance_mm']:.2f} | {r['max_diff_magE_ref']:.3f} | {r['max_diff_magE']:.3f} | "
                         f"{pct(r['hot_max_diff_rel_peak'])} |")
        lines += ["", ("By distance to the inner skull (rel. L2 within the band, all / hot vertices; max |ΔE| in the "
                  "band as a fraction of max \\|E_ref\\|):"), "",
                  "| test | reference | " + " | ".join(_band(b) for b in comparisons[name][0]["result"]["bands"]) + " |",
                  "|---|---|" + "---:|" * len(BANDS_MM)]
        for c in comparisons[name]:
            cells = [f"{pct(b['rel_l2'])} / {pct(b['rel_l2_hot'])} ({b['n_hot']} hot); max {pct(b['max_diff_rel_peak'])}"
                     for b in c["result"]["bands"]]
            lines.append(f"| {c['test']} | {c['reference']} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Which is more accurate", "", meta["discussion"], ""]
    return "\n".join(lines)


def _band(b):
    return f"d ≥ {b['from_mm']:g} mm" if b["to_mm"] is None else f"{b['from_mm']:g}–{b['to_mm']:g} mm"


DISCUSSION = """\
Both solvers discretise the same piecewise-flat geometry, so their differences are discretisation
errors, not geometry. The P2 FEM's potential is quadratic in the tetrahedra (E piecewise linear,
L2 error O(h²); 0.1–0.2 % on the 6 mm three-layer sphere, validation/results/fem_sphere.md); refining
its volume mesh from {fem_from:.1f} to {fem_to:.1f} mm mean edges without touching the surfaces changes
the cortex field by {fem_change} (default mesh vs {ref}). The BEM puts one constant charge density on
each facet; each row of its operator is averaged over 3 points of the facet, near and far field alike,
with the entries of neighbouring facets integrated as fluxes (solver/bem/charge_field.py). Against
{ref}, the 6 mm BEM differs by {far} at ≥ 10 mm from the inner skull, {mid} at 2–5 mm and {near} for
the {n_near} vertices closer than 2 mm. Splitting each BEM facet into four (same geometry) moves it
from {bem6} to {bem3} of the refined FEM (hot region {bem6h} → {bem3h}): a ratio of {ratio:.2f} for
halving h, observed order {order:.1f}; the first-order Richardson extrapolation 2·E(3 mm) − E(6 mm) lands
{rich} ({richh} hot) from it. {which}
For scale: the skull (outer-skull vertices {skull} mm from the inner skull, 5th/50th/95th
percentile) is thinner than the 6 mm facets, with contrasts κ = +0.93 (brain | bone) and −0.96
(bone | scalp) on its two faces.\
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="hbf_samplehead_3shell_wh.mat")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--quick", action="store_true", help="no 3 mm BEM, no refined FEM, one placement")
    args = parser.parse_args(argv)

    surfaces, cortex = load(args.data)
    distance = surface_distance(cortex, *surfaces[0])
    dist_check = check_distance(cortex, *surfaces[0], distance)
    coil = tf.coils.figure8()

    chosen = placements(tf.head_models.from_surfaces(surfaces, tags=TAGS), cortex)
    if args.quick:
        chosen = dict(list(chosen.items())[:1])
    poses = {name: pose for name, (pose, _) in chosen.items()}
    models = [run_fem("FEM P2", surfaces, None, coil, poses, cortex)]
    if not args.quick:
        models += [run_fem(f"FEM P2 {h:g} mm", surfaces, 1e-3 * h, coil, poses, cortex) for h in FEM_EDGES_MM]
    models.append(run_bem("BEM 6 mm", surfaces, coil, poses, cortex))
    if not args.quick:
        models.append(run_bem("BEM 3 mm", [split4(*s) for s in surfaces], coil, poses, cortex))
    by_name = {m["info"]["model"]: m for m in models}
    ref = "FEM P2" if args.quick else f"FEM P2 {FEM_EDGES_MM[-1]:g} mm"   # the finest FEM

    pairs = [("BEM 6 mm", "FEM P2")]
    if not args.quick:
        pairs += [("BEM 6 mm", ref), ("BEM 3 mm", ref), ("BEM Richardson", ref), ("BEM 6 mm", "BEM 3 mm"),
                  ("FEM P2", ref), (f"FEM P2 {FEM_EDGES_MM[0]:g} mm", ref)]
    comparisons = {}
    for name in poses:
        fields = {k: m["E"][name] for k, m in by_name.items()}
        if "BEM 3 mm" in fields:
            fields["BEM Richardson"] = 2 * fields["BEM 3 mm"] - fields["BEM 6 mm"]
        comparisons[name] = [{"test": a, "reference": b, "result": compare(fields[a], fields[b], cortex, distance)}
                             for a, b in pairs]

    placements_info = {name: {"description": what, "center_mm": _mm(pose.matrix[:3, 3]),
                              "axis": "(" + ", ".join(f"{v:.3f}" for v in pose.matrix[:3, 2]) + ")",
                              "matrix": pose.matrix.tolist()} for name, (pose, what) in chosen.items()}
    edges = [float(1e3 * np.linalg.norm(v[f] - np.roll(v[f], 1, axis=1), axis=2).mean()) for v, f in surfaces]
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "command": " ".join(["python -m tmsfield.validation.bem_fem_head",
                                                       *(sys.argv[1:] if argv is None else argv)]),
            "machine": f"{platform.machine()} 2-core development VM ({platform.processor() or 'cpu'}), no GPU",
            "version": tf.__version__, "git": _git(), "numpy": np.__version__, "python": platform.python_version(),
            "data": str(args.data), "sha256": hashlib.sha256(args.data.read_bytes()).hexdigest(),
            "surface_edges_mm": edges, "coil": coil.name, "reference": ref,
            "cortex_distance_mm": [float(1e3 * distance.min()), float(1e3 * distance.max()),
                                   float(1e3 * np.median(distance))],
            "cortex_bands": [{"from_mm": lo, "to_mm": None if np.isinf(hi) else hi,
                              "n": int(np.sum((1e3 * distance >= lo) & (1e3 * distance < hi)))} for lo, hi in BANDS_MM],
            "distance_check_m": dist_check}
    skull = 1e3 * np.percentile(surface_distance(surfaces[1][0], *surfaces[0]), [5, 50, 95])
    meta["skull_thickness_mm_p5_p50_p95"] = skull.tolist()
    infos = [m["info"] for m in models]
    if args.quick:
        meta["discussion"] = "(--quick run: no refined models; see the full run for the convergence evidence.)"
    else:
        edges = {m["model"]: m["mean_edge_mm"] for m in infos}
        meta["discussion"] = discussion(comparisons, ref, skull, edges)
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "bem_fem_head.md", markdown(meta, infos, placements_info, comparisons))
    write_text_atomic(args.out / "bem_fem_head.json", json.dumps(
        {"meta": meta, "models": infos, "placements": placements_info, "comparisons": comparisons}, indent=2) + "\n")
    for name, rows in comparisons.items():
        for c in rows:
            r = c["result"]
            print(f"{name:<16} {c['test']:<15} vs {c['reference']:<13} rel L2 {100 * r['rel_l2_all']:6.2f} %  "
                  f"hot {100 * r['rel_l2_hot']:6.2f} %  p99.9 {100 * r['p999_rel_diff']:+6.2f} %  "
                  f"max |dE| {100 * r['max_diff_rel_peak']:6.2f} % of peak at d = {r['max_diff_distance_mm']:.2f} mm")


def discussion(comparisons, ref, skull, edges):
    """The discussion paragraph with this run's numbers (first placement); its comparisons are
    worded from the numbers."""
    rows = {(c["test"], c["reference"]): c["result"] for c in next(iter(comparisons.values()))}
    pct = lambda v: f"{100 * v:.2f} %"
    b6, b3 = rows[("BEM 6 mm", ref)], rows[("BEM 3 mm", ref)]
    rich = rows[("BEM Richardson", ref)]
    ratio = b6["rel_l2_all"] / b3["rel_l2_all"]
    order = float(np.log2(ratio))
    fem = rows[("FEM P2", ref)]["rel_l2_all"]
    bands = {b["from_mm"]: b for b in b6["bands"]}
    if b6["rel_l2_all"] <= fem:
        which = (f"At these resolutions the 6 mm BEM is closer to {ref} than the default FEM mesh is "
                 f"({pct(b6['rel_l2_all'])} vs {pct(fem)}).")
    else:
        h_match = edges["BEM 6 mm"] * (fem / b6["rel_l2_all"]) ** (1 / order) if order > 0 else float("nan")
        which = (f"The 6 mm BEM is farther from {ref} than the default FEM mesh ({pct(b6['rel_l2_all'])} vs "
                 f"{pct(fem)}); at the observed order it would need facets of ~{h_match:.1f} mm to match it.")
    return DISCUSSION.format(skull="/".join(f"{v:.1f}" for v in skull), fem_change=pct(fem), ref=ref,
                             bem6=pct(b6["rel_l2_all"]), bem3=pct(b3["rel_l2_all"]),
                             bem6h=pct(b6["rel_l2_hot"]), bem3h=pct(b3["rel_l2_hot"]), ratio=ratio, order=order,
                             rich=pct(rich["rel_l2_all"]), richh=pct(rich["rel_l2_hot"]),
                             far=pct(bands[10.0]["rel_l2"]), mid=pct(bands[2.0]["rel_l2"]),
                             near=pct(bands[0.0]["rel_l2"]), n_near=bands[0.0]["n"], which=which,
                             fem_from=edges["FEM P2"], fem_to=edges[ref])


if __name__ == "__main__":
    main()
