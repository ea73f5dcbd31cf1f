"""BEM accuracy against the near/intermediate-field settings: 3-layer sphere, figure-8 dipole model.

    python -m tmsfield.validation.bem_intermediate_study H_MM SPEC [SPEC ...]

H_MM: facet edge length (mm) of the gmsh spheres (85/90/95 mm, validation/bem_sphere_study.py);
SPEC: "default" or BEMOptions fields, e.g. "intermediate_factor=4" or "near_factor=4,intermediate_factor=0".
Prints, per SPEC, the relative L2 error of E against the analytic field (Heller & van Hulsteyn) at
2000 points on spheres of 70 and 84 mm, GMRES iterations, set-up/solve/evaluation times and the
near-field pair count. validation/results/bem_intermediate.md collects runs of it.
"""
import sys
import time

import tmsfield as tf
from tmsfield.solver.options import BEMOptions
from tmsfield.validation.analytic import relative_l2
from tmsfield.validation.bem_sphere_study import fibonacci_sphere, reference, sources, surfaces


def main(argv):
    coil, pose = sources()["figure-8 (dipole model)"]
    pts = {r: fibonacci_sphere(r * 1e-3, 2000) for r in (70, 84)}
    h = float(argv[1])
    surf, _ = surfaces(h)
    print(f"h {h} facets {surf.n_facets} mean edge {1e3*surf.mean_edge_length:.2f}", flush=True)
    for spec in argv[2:]:  # each SPEC a fresh solver on the same surfaces
        kw = {k: float(v) for k, v in (x.split("=") for x in spec.split(","))} if spec != "default" else {}
        t = time.time()
        solver = tf.solver.bem.BEMSolver(surf, options=BEMOptions(**kw))
        setup = time.time() - t
        res = solver.solve(coil, pose, didt=1e6)
        t2 = time.time()
        errs = {r: relative_l2(res.sample(p), reference(p, coil, pose)) for r, p in pts.items()}
        print(f"  {spec:<32} " + " ".join(f"{r}mm {100 * e:.3f}%" for r, e in errs.items())
          + f" its {res.provenance['solver']['iterations']} setup {setup:.0f}s solve {res.timings['solve']:.0f}s "
          f"eval {time.time() - t2:.0f}s nnz {solver.charges.near_exact.nnz}", flush=True)


if __name__ == "__main__":
    main(sys.argv)
