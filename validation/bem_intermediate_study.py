"""BEM accuracy against the near/intermediate-field settings: 3-layer sphere, figure-8 dipole model.

    python -m tmsfield.validation.bem_intermediate_study [radii=R1,R2,...] H_MM SPEC [SPEC ...]

radii: sphere radii in mm, innermost first (default 85,90,95 as validation/bem_sphere_study.py; four
radii are tagged brain, CSF, bone, scalp, and E is scored at 60 and 70 mm); H_MM: facet edge length
(mm) of the gmsh spheres, or one per sphere, comma-separated (local refinement: e.g. 5.8,2.9,2.9,5.8);
SPEC: "default" or BEMOptions fields, e.g. "intermediate_factor=4" or "near_factor=4,intermediate_factor=0".
Prints, per SPEC, the relative L2 error of E against the analytic field (Heller & van Hulsteyn) at
2000 points on spheres of 70 and 84 mm, GMRES iterations, set-up/solve/evaluation times and the
near-field pair count. validation/results/bem_intermediate.md collects runs of it.
"""
import sys
import time

import tmsfield as tf
from tmsfield.head_models.spheres import sphere_surfaces
from tmsfield.solver.bem import BEMSolver, Interfaces
from tmsfield.solver.options import BEMOptions
from tmsfield.validation.analytic import relative_l2
from tmsfield.validation.bem_sphere_study import fibonacci_sphere, reference, sources, surfaces


def main(argv):
    coil, pose = sources()["figure-8 (dipole model)"]
    pts = {r: fibonacci_sphere(r * 1e-3, 2000) for r in (70, 84)}
    if argv[1].startswith("radii="):
        radii = [1e-3 * float(v) for v in argv[1][6:].split(",")]
        argv = argv[1:]
        edges = [1e-3 * float(v) for v in argv[1].split(",")]
        edges = edges * len(radii) if len(edges) == 1 else edges
        spheres = [sphere_surfaces([r], edge_length=h)[0] for r, h in zip(radii, edges, strict=True)]
        surf = Interfaces.from_surfaces(spheres, tags=(2, 3, 4, 5)[-len(radii):])
        pose = tf.CoilPose.from_axes(center=[0, 0, radii[-1] + 0.004], normal=[0, 0, -1], handle=[0, 1, 0])
        pts = {r: fibonacci_sphere(r * 1e-3, 2000) for r in (60, 70)}
        print(f"radii {[round(1e3 * r, 1) for r in radii]} mm", flush=True)
    else:
        surf, _ = surfaces(float(argv[1]))
    h = argv[1]
    print(f"h {h} facets {surf.n_facets} mean edge {1e3*surf.mean_edge_length:.2f}", flush=True)
    for spec in argv[2:]:  # each SPEC a fresh solver on the same surfaces
        kw = {k: (int(v) if v.isdigit() else float(v)) for k, v in (x.split("=") for x in spec.split(","))} if spec != "default" else {}
        t = time.time()
        solver = BEMSolver(surf, options=BEMOptions(**kw))
        setup = time.time() - t
        res = solver.solve(coil, pose, didt=1e6)
        t2 = time.time()
        errs = {r: relative_l2(res.sample(p), reference(p, coil, pose)) for r, p in pts.items()}
        print(f"  {spec:<32} " + " ".join(f"{r}mm {100 * e:.3f}%" for r, e in errs.items())
          + f" its {res.provenance['solver']['iterations']} setup {setup:.0f}s solve {res.timings['solve']:.0f}s "
          f"eval {time.time() - t2:.0f}s nnz {solver.charges.near_exact.nnz}", flush=True)


if __name__ == "__main__":
    main(sys.argv)
