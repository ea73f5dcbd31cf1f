"""``tmsfield validate``: run the validation studies and write their reports in one folder."""
from __future__ import annotations

import importlib
import importlib.util
import logging
import time
from pathlib import Path

import click

log = logging.getLogger("tmsfield")

#: study name -> (module in tmsfield.validation, what it checks, modules it needs)
STUDIES = {
    "fem-sphere": ("fem_sphere_study", "P1/P2 FEM vs the analytic 3-layer sphere", ()),
    "bem-sphere": ("bem_sphere_study", "BEM vs the analytic 3-layer sphere", ()),
    "bem-fem-head": ("bem_fem_head", "FEM vs BEM on the wh_sub01 three-shell head (shared data)", ()),
    "coil-inductance": ("coil_inductance", "coil inductance vs closed forms and Maxwell's rings", ()),
    "neuron-crosscheck": ("neuron_crosscheck", "axon thresholds vs NEURON", ("neuron",)),
    "reciprocity": ("reciprocity_study", "reciprocity and ADM placement search vs brute-force FEM", ()),
}


def _missing(modules) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


@click.command()
@click.argument("studies", nargs=-1, type=click.Choice(sorted(STUDIES)))
@click.option("--full", is_flag=True, help="The full studies (tens of minutes to hours) instead of the quick ones.")
@click.option("--out", "out_dir", default="tmsfield_validation", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the reports (one .md/.json per study, index.md).")
def validate(studies, full, out_dir):
    """Run validation studies (default: all, quick variants) and write the reports to --out.

    Each study compares tmsfield against a reference nobody here wrote (analytic fields,
    NEURON, closed-form inductances, a refined solver) and writes a Markdown table. Studies
    whose optional dependency or data is missing are reported as skipped.

    \b
    Examples:
      tmsfield validate                         # all studies, quick variants
      tmsfield validate bem-sphere --full --out report
    """
    from ..core.files import write_text_atomic
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# tmsfield validation report", "", "| study | checks | result | time (s) |", "|---|---|---|---:|"]
    failed = False
    for name in studies or sorted(STUDIES):
        module, what, needs = STUDIES[name]
        missing = _missing(needs)
        if missing:
            status, seconds = f"skipped: {', '.join(missing)} not installed", 0.0
        else:
            click.echo(f"running {name} ({what}) ...")
            t0 = time.perf_counter()
            try:
                study = importlib.import_module(f"tmsfield.validation.{module}")
                study.main(["--out", str(out)] + ([] if full else ["--quick"]))
                status = "done: see the .md file of the same name"
            except OSError as exc:                  # e.g. shared data not beside the checkout
                status = f"skipped: {exc}"
            except Exception as exc:  # a study that breaks is reported, the others still run
                log.exception("validation study %s failed", name)
                status, failed = f"FAILED: {type(exc).__name__}: {exc}", True
            seconds = time.perf_counter() - t0
        lines.append(f"| {name} | {what} | {status} | {seconds:.0f} |")
        click.echo(f"{name}: {status}")
    write_text_atomic(out / "index.md", "\n".join(lines) + "\n")
    click.echo(f"wrote {out}/index.md")
    if failed:
        raise click.ClickException("some validation studies failed (see index.md)")
