"""The README's main job, `tmsfield simulate` on the built-in demo head, timed end to end against
the same command from an earlier commit, in the same run.

    python benchmarks/cli_main_job.py [--baseline-ref REF] [--runs N] [--method fem|bem]

Each run is a fresh process writing a fresh output folder (the demo head is cached in
~/.cache/tmsfield by a first, untimed run of each version). The baseline is REF checked out as a
git worktree and imported in place of this tree (PYTHONPATH). Writes benchmarks/results/cli_main_job.md
(``--method bem``: the same command with ``--method bem``, to cli_main_job_bem.md).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def run_main_job(package_parent: Path | None, folder: Path, method: str) -> float:
    """Seconds of one `python -m tmsfield.cli.main simulate --method METHOD --out folder`."""
    env = dict(os.environ)
    if package_parent is not None:
        env["PYTHONPATH"] = str(package_parent)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tmsfield.cli.main", "simulate", "--method", method, "--out", str(folder)], env=env,
                   check=True, capture_output=True, cwd=tempfile.gettempdir())
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-ref", default="11e3152", help="git commit of the baseline")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--method", choices=("fem", "bem"), default="fem")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tmp / "base"),
                        args.baseline_ref], check=True)
        try:
            (tmp / "pkg").mkdir()
            (tmp / "pkg" / "tmsfield").symlink_to(tmp / "base")
            versions = {f"baseline {args.baseline_ref}": tmp / "pkg", "this tree": None}
            times = {}
            for name, parent in versions.items():
                run_main_job(parent, tmp / "warm", args.method)    # demo head cached, imports warm
                times[name] = [run_main_job(parent, tmp / f"out{i}", args.method) for i in range(args.runs)]
                print(name, times[name], flush=True)
            summary = (tmp / f"out{args.runs - 1}" / "summary.txt").read_text()
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tmp / "base")], check=True)
    machine = common.machine()
    base, new = (min(v) for v in times.values())
    lines = [f"# The README's main job (`tmsfield simulate --method {args.method}`, demo head) against an earlier "
             "commit", "", f"`python benchmarks/cli_main_job.py --baseline-ref {args.baseline_ref} --runs {args.runs} "
             f"--method {args.method}` — {machine}.",
             "", "| version | wall time per run (s) | best (s) |", "|---|---|---:|"]
    lines += [f"| {name} | {', '.join(f'{t:.1f}' for t in ts)} | {min(ts):.1f} |" for name, ts in times.items()]
    lines += ["", f"This tree / baseline: {new / base:.2f}x. The timed stages of the last run "
              "(its summary.txt):", "", "```", *[row for row in summary.splitlines()
                                                 if row.startswith(("estimated error", "time:"))], "```"]
    from tmsfield.core.files import write_text_atomic
    out = RESULTS / ("cli_main_job.md" if args.method == "fem" else f"cli_main_job_{args.method}.md")
    write_text_atomic(out, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
