"""``tmsfield``: command-line entry point. Thin: parses options, calls the API, reports."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
import numpy as np

from ..core.errors import TmsFieldError
from .coil import coil
from .config import config_option, config_text
from .head import head
from .optimize import optimize
from .options import (
    PackageErrorGroup,
    cap_position,
    conductivities,
    head_from_spec,
    load_coil,
    vector,
)
from .validate import validate
from .view import view

log = logging.getLogger("tmsfield")


@click.group(cls=PackageErrorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tmsfield")
def main():
    """Electric fields induced by TMS coils in head models."""


@main.command()
@click.option("--head", "head_spec", default="demo", show_default=True,
              help="'demo' (built-in folded five-layer head, generated and cached on first use), 'sphere' "
                   "(3-layer sphere, radii 85/90/95 mm) or a head mesh (.msh in mm as SimNIBS writes it, "
                   ".msh.gz, or .vtu in m).")
@click.option("--edge-length-mm", type=float, default=None,
              help="Edge length of a built-in head (demo: 0.8-8, default its standard resolution; sphere: 6).")
@click.option("--method", type=click.Choice(["fem", "bem"]), default="fem", show_default=True,
              help="fem: finite elements; bem: charge-based boundary elements on the tissue interfaces.")
@click.option("--order", type=click.IntRange(1, 2), default=None,
              help="FEM element order: 2 (P2, accurate; the default) or 1 (P1, as SimNIBS).")
@click.option("--backend", type=click.Choice(["auto", "cpu", "gpu"]), default="auto", show_default=True,
              help="Where the FEM solves and the primary field is summed: auto uses a GPU through cupy when "
                   "one is usable (tmsfield[gpu]), else the CPU.")
@click.option("--coil", "coil_spec", default="figure8", show_default=True,
              help="Built-in coil name (figure8, circular) or a SimNIBS .ccd/.tcd file.")
@click.option("--center-mm", default=None,
              help="Point near the scalp (mm) above which the coil is centred. Default: over the demo "
                   "head's motor-like gyral crown, or the top of the sphere (0,0,95).")
@click.option("--handle", default=None,
              help="Handle direction (x,y,z). Default: the demo head's (backwards, 45 degrees to the "
                   "midline), else 0,1,0.")
@click.option("--handle-angle", default=0.0, show_default=True, metavar="DEG",
              help="Turn the handle by DEG degrees from --handle, --handle-toward or the default direction, "
                   "counter-clockwise as seen from outside the head.")
@click.option("--distance-mm", default=4.0, show_default=True, help="Coil-scalp distance (mm).")
@click.option("--subject", type=click.Path(exists=True, file_okay=False), default=None,
              help="A SimNIBS subject folder (m2m_<id>, made by charm): its head mesh, and its EEG caps for "
                   "--position and --handle-toward. Replaces --head.")
@click.option("--position", default=None,
              help="EEG position of the subject's 10-10 cap (e.g. C3) above which the coil is centred.")
@click.option("--mni", default=None, metavar="X,Y,Z",
              help="MNI coordinates (mm) of the target, e.g. -37,-21,58: the coil is centred over the scalp point "
                   "nearest to the subject point they map to through the subject's toMNI/ transformation (SimNIBS "
                   "4's deformation field needs tmsfield[nifti]). Needs --subject.")
@click.option("--handle-toward", default=None,
              help="EEG position (e.g. CP3) the handle points towards, instead of --handle.")
@click.option("--matsimnibs", type=click.Path(exists=True, dir_okay=False),
              help="4x4 SimNIBS pose matrix file (translation in mm); overrides centre/handle/distance.")
@click.option("--neuronavigation", type=click.Path(exists=True, dir_okay=False),
              help="A Localite InstrumentMarker/TriggerMarker .xml or a Brainsight .txt export (NIfTI:Aligned, the "
                   "head model's T1 coordinates); overrides centre/handle/distance.")
@click.option("--marker", default=None, help="The marker (target, sample) of --neuronavigation to use, by name; "
                                             "needed when the file holds several.")
@click.option("--fit/--no-fit", default=None,
              help="Fit the coil to the scalp before the solve: its casing (wires, for coils without one) "
                   "--distance-mm from the skin, no element inside the head, within the ranges below. "
                   "Default: flexible coils (a .tcd with deformations: Brainsway H1/H4/H7, MST-Twin) are fitted, "
                   "rigid ones (e.g. double_cone) only with --fit.")
@click.option("--fit-rotation-deg", default="20,20,5", show_default=True, metavar="RX,RY,RZ",
              help="Tilts the fit may add about the coil's own x', y', z' axes: ± degrees each (0,0,0: none).")
@click.option("--fit-translation-mm", default="5,5,30", show_default=True, metavar="TX,TY,TZ",
              help="Shifts the fit may add along the coil's x', y', z' axes: ± mm each (0,0,0: none).")
@click.option("--didt", default=1e6, show_default=True, help="Coil current slope dI/dt (A/s).")
@click.option("--coil2", "coil2_spec", default=None, metavar="COIL",
              help="A second coil fired together with the first (superposed; FEM): a built-in name or coil file, "
                   "placed with --position2, --center2-mm or --matsimnibs2.")
@click.option("--position2", default=None, metavar="LABEL", help="10-10 position of --coil2 (as --position).")
@click.option("--center2-mm", default=None, metavar="X,Y,Z", help="Scalp point under --coil2 (mm).")
@click.option("--matsimnibs2", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Pose of --coil2: a 4x4 matsimnibs text file (mm).")
@click.option("--handle2-toward", default=None, metavar="LABEL",
              help="Point --coil2's handle toward this 10-10 position (default: the first coil's handle direction).")
@click.option("--didt2", type=float, default=None, metavar="A_PER_S",
              help="dI/dt of --coil2 (A/s; default: --didt).")
@click.option("--conductivity", multiple=True, metavar="TAG=S_PER_M",
              help="Override a tissue conductivity; repeatable.")
@click.option("--out", "out_dir", default="tmsfield_out", show_default=True, type=click.Path(file_okay=False),
              help="Output folder (field.msh, field.vtu, summary.txt, summary.json, result.npz).")
@click.option("--nifti-reference", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A NIfTI image (e.g. the subject's T1, affine in mm): also write magnE.nii.gz, |E| on its "
                   "voxel grid (needs tmsfield[nifti]).")
@click.option("--roi", "rois", multiple=True, metavar="SPEC",
              help="A region of interest, its |E| mean, median, p99 and max into the summary; repeatable. SPEC: "
                   "X,Y,Z,R (the brain, white and grey matter, within R mm of X,Y,Z mm), mni:X,Y,Z,R (through the "
                   "subject's MNI transformation), C3:R (within R mm of the brain point nearest the EEG position), "
                   "mask:FILE.nii.gz or mask:FILE.nii.gz:LABEL (the voxels != 0, or == LABEL, of a NIfTI image in "
                   "the head's mm coordinates), cortex:X,Y,Z,R (the grey-matter mid-surface within R mm: |E|, and "
                   "its normal and tangential parts, area-weighted).")
@click.option("--cortex", is_flag=True,
              help="Also write the grey-matter mid-surface (cortex.surf.gii, mm) and |E|, E.n and tangential E on "
                   "it (cortex_E.func.gii, and the FreeSurfer overlays cortex.magnE, cortex.E_normal, "
                   "cortex.E_tangential); needs a head with grey and white matter and tmsfield[nifti].")
@click.option("--picture/--no-picture", default=True, show_default=True,
              help="Also save field.png (|E| on the cortex, coil in place; needs tmsfield[viz]).")
@click.option("--quiet", is_flag=True, help="Only errors; no progress or summary.")
@config_option
@click.pass_context
def simulate(ctx, head_spec, edge_length_mm, method, order, backend, coil_spec, center_mm, handle, handle_angle,
             distance_mm, subject, position, mni, handle_toward, matsimnibs, neuronavigation, marker, fit,
             fit_rotation_deg, fit_translation_mm, didt, coil2_spec, position2, center2_mm, matsimnibs2, handle2_toward,
             didt2, conductivity, out_dir, nifti_reference, rois, cortex, picture, quiet):
    """Compute the E-field of a coil on a head and write the result and a summary.

    \b
    Examples:
      tmsfield simulate                                   # demo head, figure-8 over the motor crown
      tmsfield simulate --head sphere --method bem --out sphere_bem   # sphere head, BEM
      tmsfield simulate --head m2m_ernie/ernie.msh --coil Magstim_70mm_Fig8.ccd \\
          --center-mm -50,10,80 --handle 1,1,0 --didt 1.2e8 --out ernie_c3
      tmsfield simulate --subject m2m_ernie --position C3 --handle-toward CP3 --out ernie_c3
      tmsfield simulate --subject m2m_ernie --mni -37,-21,58 --handle-toward CP3 --out ernie_m1
      tmsfield simulate --coil Brainsway_H1.tcd --position F3 --handle-toward Fpz --distance-mm 0
      tmsfield simulate --position C3 --coil2 figure8 --position2 C4 --didt2 2e6    # two coils at once
      tmsfield simulate --config ernie_c3/config.toml --out ernie_c3_again   # repeat a run
    """
    import tmsfield as tf

    from ..core.files import replaced_folder
    from ..core.optional import check_available
    from ..core.progress import set_verbose, timed
    from ..solver.results import check_nifti_reference, save_folder
    set_verbose(not quiet)
    out, timings = Path(out_dir), {}
    if nifti_reference:
        check_available("nibabel", extra="nifti", purpose="--nifti-reference")
        check_nifti_reference(nifti_reference)
    tf.get_backend(backend)                                 # a missing GPU fails before any work
    if cortex:
        check_available("nibabel", extra="nifti", purpose="--cortex")
    roi_specs = [_roi_spec(spec) for spec in rois]          # syntax checked before any work
    fitting = _fit_options(fit, fit_rotation_deg, fit_translation_mm, distance_mm)
    _check_placement_flags(ctx, subject, position, mni, center_mm, handle, handle_toward, matsimnibs,
                           neuronavigation)
    _check_second_coil_flags(coil2_spec, position2, center2_mm, matsimnibs2, handle2_toward, didt2, method)
    with replaced_folder(out, names=SIMULATE_OUTPUTS, note="tmsfield simulate\n") as staging:
        with timed(timings, "head"):
            if subject:
                person = tf.load_subject(subject)
                head, center, handle_default = person.head, None, (0.0, 1.0, 0.0)
            else:
                head, center, handle_default = head_from_spec(head_spec, edge_length_mm, verbose=not quiet)
            if position or handle_toward or position2 or handle2_toward:
                locate = person.position if subject else cap_position(head, head_spec)
            if position:
                center = locate(position)
            if mni:
                center = person.mni_transform().to_subject(vector(mni, "--mni"))[0]
            if handle_toward:
                if center is None and center_mm is None:      # a mesh file has no default position
                    raise TmsFieldError("--handle-toward needs the coil position (--position, --mni or --center-mm)")
                start = center if center is not None else [v * 1e-3 for v in vector(center_mm, "--center-mm")]
                handle_default = locate(handle_toward) - np.asarray(start)
            regions = [_roi(spec, head, person if subject else None, head_spec) for spec in roi_specs]
            for region in regions:
                region.elements(head)                       # an empty region fails before the solve
            if cortex and not {1, 2} <= set(head.tissue_tags):
                raise TmsFieldError(f"--cortex needs grey and white matter (tags 2 and 1); this head has tags "
                                    f"{head.tissue_tags}")
        with timed(timings, "coil placement"):
            coil = load_coil(coil_spec)
            if matsimnibs:
                pose = tf.CoilPose.load(matsimnibs)
            elif neuronavigation:
                from ..coils.neuronavigation import marker as chosen_marker
                pose = chosen_marker(tf.coils.read_neuronavigation(neuronavigation), marker, neuronavigation).pose
            else:
                if center_mm is None and center is None:
                    raise TmsFieldError(f"{head_spec}: give the coil position with --center-mm X,Y,Z "
                                        "or --matsimnibs")
                center = center if center_mm is None else [v * 1e-3 for v in vector(center_mm, "--center-mm")]
                pose = tf.CoilPose.on_head(head, center=center, distance=distance_mm * 1e-3,
                                           handle=handle_default if handle is None else vector(handle, "--handle"),
                                           handle_angle_deg=handle_angle)
            if coil2_spec:
                coil2 = load_coil(coil2_spec)
                if matsimnibs2:
                    pose2 = tf.CoilPose.load(matsimnibs2)
                else:
                    center2 = locate(position2) if position2 else [v * 1e-3 for v in vector(center2_mm, "--center2-mm")]
                    pose2 = tf.CoilPose.on_head(head, center=center2, distance=distance_mm * 1e-3,
                                                handle=(locate(handle2_toward) - np.asarray(center2) if handle2_toward
                                                        else pose.handle))
        fits = fit or (fit is None and (coil.is_flexible or (coil2_spec and coil2.is_flexible)))
        options = dict(method=method, order=order, backend=backend, conductivities=conductivities(conductivity),
                       fit=fitting if fits else False)
        if coil2_spec:
            result = tf.simulate(head, [coil, coil2], [pose, pose2], didt=[didt, didt if didt2 is None else didt2],
                                 **options)
        else:
            result = tf.simulate(head, coil, pose, didt=didt, **options)
        # the run's stages in order; summary.txt/.json are written before the last two are known
        result.timings = {**timings, **result.timings}
        with timed(result.timings, "writing outputs"):
            save_folder(result, staging, config=config_text(ctx), nifti_reference=nifti_reference, rois=regions,
                        cortex=cortex, verbose=not quiet)
        pictured = False
        if picture:
            with timed(result.timings, "picture"):
                pictured = _write_picture(result, staging / "field.png")
    if not quiet:
        click.echo(result.summary())
        click.echo(f"wrote {out_dir}/field.msh, field.vtu, summary.txt, summary.json, result.npz, config.toml"
                   + (", magnE.nii.gz" if nifti_reference else "") + (", field.png" if pictured else ""))


def _write_picture(result, path: Path) -> bool:
    """PNG of |E| on the cortex seen down the coil axis, if pyvista can render here."""
    import importlib.util
    if importlib.util.find_spec("pyvista") is None:
        log.info("no field.png: pyvista is not installed (pip install 'tmsfield[viz]')")
        return False
    import tmsfield as tf

    from .. import viz
    ok, why = viz.rendering_available()
    if not ok:
        log.info("no field.png: cannot render off-screen here (%s)", why)
        return False
    placed = [(result.coil, result.pose)] if result.pose is not None else [      # coils fired together: rings
        (None, tf.CoilPose.from_matsimnibs(c["matsimnibs_mm"])) for c in result.provenance["coils"]]
    plotter = viz.plot_field(result, coil=placed[0][0], pose=placed[0][1], coil_opacity=0.5, off_screen=True)
    for i, (other, where) in enumerate(placed[1:], start=2):
        viz.add_coil(plotter, where, other, opacity=0.5, name=f"coil {i}")
    viz.screenshot(plotter, path, view="coil", pose=placed[0][1])
    plotter.close()
    return True


def _fit_options(fit: bool | None, rotation_deg: str, translation_mm: str, distance_mm: float):
    """The FitOptions of --fit-rotation-deg/--fit-translation-mm (± half-widths) with the casing
    gap --distance-mm, or False for --no-fit."""
    from ..coils.flexible_fit import FitOptions
    if fit is False:
        return False
    ranges = {}
    for flag, text in (("--fit-rotation-deg", rotation_deg), ("--fit-translation-mm", translation_mm)):
        half = vector(text, flag)
        if any(v < 0 for v in half):
            raise click.BadParameter(f"{flag} takes three half-widths >= 0 (e.g. 20,20,5), got {text!r}")
        ranges[flag] = None if not any(half) else tuple((-v, v) for v in half)
    return FitOptions(gap=distance_mm * 1e-3, rotation_deg=ranges["--fit-rotation-deg"],
                      translation_mm=ranges["--fit-translation-mm"])


def _check_second_coil_flags(coil2, position2, center2_mm, matsimnibs2, handle2_toward, didt2, method) -> None:
    """The --coil2 options' combinations, checked before the head is loaded."""
    given = [name for name, v in (("--position2", position2), ("--center2-mm", center2_mm),
                                  ("--matsimnibs2", matsimnibs2), ("--handle2-toward", handle2_toward),
                                  ("--didt2", didt2)) if v is not None]
    if not coil2:
        if given:
            raise TmsFieldError(f"{given[0]} places a second coil: give it with --coil2")
        return
    if sum(v is not None for v in (position2, center2_mm, matsimnibs2)) != 1:
        raise TmsFieldError("place --coil2 with one of --position2, --center2-mm and --matsimnibs2")
    if matsimnibs2 and handle2_toward:
        raise TmsFieldError("--matsimnibs2 fixes the second coil's handle: drop --handle2-toward")
    if method != "fem":
        raise TmsFieldError("two coils fired together (--coil2) are solved by the FEM (--method fem)")


def _check_placement_flags(ctx, subject, position, mni, center_mm, handle, handle_toward, matsimnibs,
                           neuronavigation) -> None:
    """The placement options' combinations, checked before the head is loaded."""
    if subject and ctx.get_parameter_source("head_spec") is not click.core.ParameterSource.DEFAULT:
        raise TmsFieldError("give the head either with --subject or with --head, not both")
    if mni and not subject:
        raise TmsFieldError("--mni needs a subject folder with its MNI transformations: give --subject "
                            "m2m_<id> (or the position in mm with --center-mm)")
    if sum(bool(v) for v in (position, mni, center_mm)) > 1:
        raise TmsFieldError("give the coil position with one of --position, --mni and --center-mm")
    if handle_toward and handle:
        raise TmsFieldError("give the handle either with --handle or with --handle-toward, not both")
    if matsimnibs and neuronavigation:
        raise TmsFieldError("give the pose either with --matsimnibs or with --neuronavigation, not both")


def _roi_spec(spec: str) -> tuple:
    """The parts of one --roi SPEC (see the option's help), checked for syntax."""
    if spec.startswith("mask:"):
        path, _, label = spec[5:].rpartition(":") if not spec[5:].lower().endswith((".nii", ".nii.gz")) else \
            (spec[5:], "", "")
        if label and not label.lstrip("-").isdigit():
            raise click.BadParameter(f"--roi mask:FILE:LABEL needs an integer label, got {label!r}")
        return ("mask", path, int(label) if label else None)
    if spec.startswith("mni:"):
        return ("mni", vector(spec[4:], "--roi mni:", length=4))
    if spec.startswith("cortex:"):
        return ("cortex", vector(spec[7:], "--roi cortex:", length=4))
    name, colon, radius = spec.partition(":")
    if colon:
        return ("eeg", name, vector(radius, f"--roi {name}:", length=1)[0])
    return ("mm", vector(spec, "--roi", length=4))


def _roi(spec: tuple, head, subject, head_spec: str):
    """The region of interest of a parsed --roi spec on ``head`` (m)."""
    from ..solver.results.roi import CortexROI, MaskROI, SphereROI
    kind = spec[0]
    if kind == "mask":
        return MaskROI(spec[1], label=spec[2])
    if kind == "cortex":
        return CortexROI(center=tuple(1e-3 * v for v in spec[1][:3]), radius=1e-3 * spec[1][3])
    if kind == "eeg":
        locate = subject.position if subject is not None else cap_position(head, head_spec)
        return SphereROI.under(head, locate(spec[1]), 1e-3 * spec[2], name=f"{spec[1]} ({spec[2]:g} mm)")
    values = spec[1]
    if kind == "mni":
        if subject is None:
            raise TmsFieldError("--roi mni:... needs a subject folder with its MNI transformations (--subject)")
        center = subject.mni_transform().to_subject(values[:3])[0]
        return SphereROI(center=tuple(center), radius=1e-3 * values[3],
                         name=f"MNI {[round(v, 1) for v in values[:3]]} ({values[3]:g} mm)")
    return SphereROI(center=tuple(1e-3 * v for v in values[:3]), radius=1e-3 * values[3])


#: the files `simulate` may write into its output folder (an existing folder holding only these is replaced)
SIMULATE_OUTPUTS = ("field.msh", "field.vtu", "summary.txt", "summary.json", "result.npz", "config.toml",
                    "magnE.nii.gz", "field.png", "cortex.surf.gii", "cortex_E.func.gii", "cortex.magnE",
                    "cortex.E_normal", "cortex.E_tangential")


#: the files `thresholds` writes into its output folder
THRESHOLDS_OUTPUTS = ("thresholds.csv", "thresholds.npz", "thresholds_map.vtu", "summary.txt")


@main.command()
@click.argument("result", type=click.Path(exists=True))
@click.option("--cells", "cells_spec", default="axon", show_default=True,
              help="'axon' (straight myelinated CRRSS axons) or an SWC morphology file.")
@click.option("--diameter-um", default=10.0, show_default=True, help="Axon fibre diameter (µm).")
@click.option("--nodes", default=21, show_default=True, help="Nodes of Ranvier per axon.")
@click.option("--up", default=None,
              help="Cell axis (x,y,z, in the cell's frame) aligned with the outward cortical normal. "
                   "Default: 0,0,-1 for axons (they run into the white matter), 0,0,1 for SWC cells.")
@click.option("--center-mm", default=None,
              help="Centre of the cortical patch (mm). Default: the element with the largest |E|.")
@click.option("--radius-mm", default=20.0, show_default=True, help="Radius of the cortical patch (mm).")
@click.option("--depths", default="0.5", show_default=True,
              help="Relative cortical depths (0 pial .. 1 white matter), comma separated.")
@click.option("--max-cells", default=2000, show_default=True, help="At most this many surface positions.")
@click.option("--waveform", default="monophasic", show_default=True,
              help="monophasic, biphasic or rectangular:WIDTH_US.")
@click.option("--dt-us", default=5.0, show_default=True, help="Time step (µs).")
@click.option("--tolerance", default=0.01, show_default=True, help="Relative threshold tolerance.")
@click.option("--out", "out_dir", default="tmsfield_thresholds", show_default=True,
              type=click.Path(file_okay=False),
              help="Output folder (thresholds.csv, thresholds_map.vtu, thresholds.npz, summary.txt).")
@click.option("--quiet", is_flag=True, help="Only errors; no progress or summary.")
def thresholds(result, cells_spec, diameter_um, nodes, up, center_mm, radius_mm, depths, max_cells, waveform,
               dt_us, tolerance, out_dir, quiet):
    """Activation thresholds of cells in the cortex for a field computed by `simulate`.

    RESULT is a `tmsfield simulate` output folder (or one of its files): the field as computed
    (head, coil, pose, dI/dt and the solver's own field, from result.npz). Cells are placed in the
    grey matter around --center-mm (or under the outer surface if the mesh has no grey/white
    matter), along the local normal.

    \b
    Examples:
      tmsfield simulate --out run1 && tmsfield thresholds run1
      tmsfield thresholds run1 --waveform biphasic --depths 0.25,0.5,0.75 --out run1_thr
      tmsfield thresholds run1 --cells pyramidal.swc --up 0,1,0 --max-cells 200
    """
    import numpy as np

    import tmsfield as tf

    from ..core.files import replaced_folder, write_text_atomic
    from ..core.progress import set_verbose
    set_verbose(not quiet)
    with replaced_folder(out_dir, names=THRESHOLDS_OUTPUTS, note="tmsfield thresholds\n") as staging:
        field = tf.load_result(result)
        head = field.head
        if center_mm:
            center = np.array(vector(center_mm, "--center-mm")) * 1e-3
        else:
            center = head.centroids[int(np.argmax(np.linalg.norm(field.E, axis=1)))]
        try:
            levels = [float(d) for d in depths.split(",")]
        except ValueError:
            raise click.BadParameter(f"--depths takes numbers like 0.25,0.5, got {depths!r}") from None
        sites = tf.neurons.cortical_sites(head, depths=levels, center=center, radius=radius_mm * 1e-3,
                                          max_sites=max_cells)
        if cells_spec == "axon":
            cable = tf.neurons.myelinated_axon(diameter_um * 1e-6, nodes)
            axis = vector(up, "--up") if up else (0.0, 0.0, -1.0)
        elif Path(cells_spec).suffix.lower() == ".swc":
            cable = tf.neurons.load_swc(cells_spec)
            axis = vector(up, "--up") if up else (0.0, 0.0, 1.0)
        else:
            raise click.BadParameter(f"--cells takes 'axon' or an .swc file, got {cells_spec!r}")
        cells = tf.neurons.place_in_cortex(cable, sites, up=axis)
        res = tf.neurons.thresholds(field, cells, waveform, dt=dt_us * 1e-6, tolerance=tolerance,
                                    verbose=not quiet)
        for name in THRESHOLDS_OUTPUTS[:3]:
            res.save(staging / name)
        write_text_atomic(staging / "summary.txt", res.summary() + "\n")
    if not quiet:
        click.echo(res.summary())
        click.echo(f"wrote {out_dir}/thresholds.csv, thresholds.npz, thresholds_map.vtu, summary.txt")


main.add_command(head)
main.add_command(coil)
main.add_command(validate)
main.add_command(optimize)
main.add_command(view)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
