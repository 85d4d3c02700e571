"""Public engine API used by the backend worker (contract: docs/architecture.md, "Engine contract").

    analyzer = load_analyzer(profile="fast", sequence="t1", device="auto", model_path=None)
    result = analyzer.analyse(input_path, out_dir, seed=0, progress=None)
"""
from __future__ import annotations

import functools
import hashlib
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from . import __version__
from .catalogue import check_weights_fit
from .contrast import SequenceMismatch, check_sequence  # noqa: F401  (SequenceMismatch: for callers)
from .checkpoints import default_weights_path, load_state, read_metadata, resolve_device
from .errors import InputError, MissingModelError
from .flags import find_flags, triage
from .inference import NetworkReconstructor, RefinementResult, iterative_mask_refinement, search_schedule
from .io import Scan, load_scan, save_nifti
from .networks import build_network, mixed_precision_dtype
from .normative import load_error_scale
from .preprocessing import DEFAULT_SCALING, PreparedScan, check_scaling, prepare_scan
from .profiles import SEQUENCES, Profile, get_profile
from .signal_checks import rescan_issues

__all__ = ["Analyzer", "InputError", "MissingModelError", "load_analyzer"]

ProgressFn = Callable[[float, str], None]


def _first_given(*values):
    """The first value that is not None: an explicit argument, then the model's metadata, then
    the profile (a 0 given on purpose is kept, and then refused if it makes no sense)."""
    return next(v for v in values if v is not None)


class Analyzer:
    """A loaded model for one (profile, sequence) on one device; reusable across calls.

    schedule: threshold-search schedule ("spec" = the 100-step search, "coarse-fine", ...;
    default from the weights' metadata or the profile); gamma and min_flag_mm3 (the smallest
    connected component reported as a flag) likewise; registration: "affine" or "moments";
    normative: divide the error by the weights' normative error scale (None: when their metadata
    names one; True: it must; False: never, the spec's plain squared error); rise_gamma: the second
    threshold test of ``threshold.choose_threshold`` (None: the metadata's, if any; 0: off);
    rise_late_steps: where the spec's k* is one of the last this many search steps, the rise test may
    move it earlier (None: the metadata's, else 1, the last step only);
    min_peak_ratio: a flag's peak anomaly must reach this fraction of the scan's strongest flag's
    (``flags.find_flags``; None: the metadata's, if any; 0: off).
    require_trained: raise MissingModelError when there are no weights for this profile and sequence
    (or the weights' metadata names another sequence) instead of running random weights; the CLI's
    ``infer`` and the worker set it, tests and experiments on the tiny profile do not.
    """

    def __init__(self, profile: str = "fast", sequence: str = "t1", device: str = "auto",
                 model_path: str | Path | None = None, schedule: str | None = None,
                 gamma: float | None = None, registration: str = "affine",
                 min_flag_mm3: float | None = None, normative: bool | None = None,
                 rise_gamma: float | None = None, min_peak_ratio: float | None = None,
                 rise_late_steps: int | None = None, require_trained: bool = False) -> None:
        if sequence not in SEQUENCES:
            raise ValueError(f"unknown sequence {sequence!r}; choose one of {', '.join(SEQUENCES)}")
        self.profile: Profile = get_profile(profile)
        self.sequence = sequence
        self.device = resolve_device(device)
        self.registration = registration
        path = Path(model_path) if model_path is not None else default_weights_path(profile, sequence)
        if model_path is not None and not path.is_file():
            raise ValueError(f"model file not found: {path}")
        torch.manual_seed(0)  # deterministic random weights when untrained
        self.model = build_network(self.profile)
        self.trained = path.is_file()
        self.metadata = read_metadata(path) if self.trained else {}
        if require_trained:
            check_weights_fit(path, self.trained, self.metadata, self.profile.name, sequence)
        if self.trained:
            self.model.load_state_dict(load_state(path))
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        else:
            digest = "untrained"
        self.model.to(self.device, memory_format=torch.channels_last_3d).eval()
        self.precision = mixed_precision_dtype(self.device)
        # the intensity scaling is part of what the network learnt, so it comes from the weights only
        self.scaling = self.metadata.get("preprocessing", {}).get("scaling", DEFAULT_SCALING)
        try:
            check_scaling(self.scaling)
        except ValueError as error:
            raise ValueError(f"{path.with_suffix('.json').name} asks for an {error}") from None
        inference_defaults = self.metadata.get("inference", {})
        self.schedule = _first_given(schedule, inference_defaults.get("schedule"), self.profile.search_schedule)
        search_schedule(self.schedule)  # validate early
        self.gamma = float(_first_given(gamma, inference_defaults.get("gamma"), self.profile.gamma))
        self.min_flag_mm3 = float(_first_given(min_flag_mm3, inference_defaults.get("min_flag_mm3"),
                                               self.profile.min_flag_mm3))
        rise = float(_first_given(rise_gamma, inference_defaults.get("rise_gamma"), 0.0))
        if not np.isfinite(rise) or rise < 0:
            raise ValueError(f"the rise test's gamma must be a number >= 0 (0 turns it off), not {rise:g}")
        self.rise_gamma = rise or None
        late = _first_given(rise_late_steps, inference_defaults.get("rise_late_steps"), 1)
        if isinstance(late, float) and late.is_integer():  # JSON writers other than ours may store 2 as 2.0
            late = int(late)
        if isinstance(late, bool) or not isinstance(late, int) or late < 1:
            raise ValueError(f"the rise test's late steps must be a whole number >= 1, not {late!r}")
        self.rise_late_steps = late
        self.min_peak_ratio = float(_first_given(min_peak_ratio, inference_defaults.get("min_peak_ratio"), 0.0))
        if not 0.0 <= self.min_peak_ratio <= 1.0:  # also refuses nan
            raise ValueError(f"the smallest peak ratio of a flag must lie in 0..1 (0 turns it off), "
                             f"not {self.min_peak_ratio:g}")
        if self.min_flag_mm3 <= 0:
            raise ValueError(f"the smallest flag must be a positive volume in mm^3, not {self.min_flag_mm3:g}")
        # like the scaling, the error scale belongs to these weights: gamma was calibrated with it
        self.error_scale = load_error_scale(path, self.metadata, self.profile) if normative is not False else None
        if normative and self.error_scale is None:
            raise ValueError(f"{path.with_suffix('.json').name} names no normative error scale; "
                             "build one with itermask3d normative")
        self.model_info = {
            "name": f"itermask3d-{self.profile.name}-{sequence}",
            "version": f"{__version__}/{digest}",
            "profile": self.profile.name,
            "sequence": sequence,
            "trained": self.trained,
        }

    @property
    def model_label(self) -> str:
        """"name version", e.g. "itermask3d-fast-t1 0.1.0/0eff15b73c" (the version ends in the weights' digest)."""
        return f"{self.model_info['name']} {self.model_info['version']}"

    def settings(self) -> dict:
        """The inference settings in force now: a recorded validation holds the same keys, and describes
        a result only where all of them agree (``model_description``)."""
        return {"schedule": self.schedule, "gamma": self.gamma, "rise_gamma": self.rise_gamma,
                "rise_late_steps": self.rise_late_steps, "min_flag_mm3": self.min_flag_mm3,
                "min_peak_ratio": self.min_peak_ratio, "normative": self.error_scale is not None,
                "scaling": self.scaling, "registration": self.registration}

    def model_description(self) -> dict:
        """result.json's ``model``: name, version, ..., and the weights' recorded validation
        (``validation``) when it was measured on these weights with the settings in force now; a
        result made with other settings gets none, as the figures would not describe it."""
        model = dict(self.model_info)
        validation = self.metadata.get("validation")
        if (isinstance(validation, dict) and validation.get("settings") == self.settings()
                and validation.get("model") == self.model_label):
            model["validation"] = validation
        return model

    def prepare(self, scan: Scan) -> PreparedScan:
        """The network's inputs for a validated scan, with this model's registration and scaling."""
        return prepare_scan(scan, self.profile, self.registration, self.scaling)

    def reconstructor(self, prepared: PreparedScan, seed: int = 0) -> NetworkReconstructor:
        """The network as mask -> reconstruction for one prepared scan, in this model's precision
        (``self.precision``), so that calibration measures the same numbers that inference then thresholds."""
        return NetworkReconstructor(self.model, prepared.x, prepared.h, self.device, seed=seed,
                                    precision=self.precision)

    def refine(self, prepared: PreparedScan, seed: int = 0, progress: ProgressFn | None = None,
               progress_span: tuple[float, float] = (0.1, 0.9)) -> RefinementResult:
        """Run the two inference phases on a prepared scan (grid space)."""
        return iterative_mask_refinement(
            self.reconstructor(prepared, seed), prepared.x, prepared.brain, gamma=self.gamma, schedule=self.schedule,
            max_refine_passes=self.profile.max_refine_passes, progress=progress, progress_span=progress_span,
            error_scale=self.error_scale, rise_gamma=self.rise_gamma, rise_late_steps=self.rise_late_steps)

    def analyse(self, input_path: str | Path, out_dir: str | Path, seed: int = 0,
                progress: ProgressFn | None = None) -> dict:
        """Analyse one scan; write the four result files into ``out_dir`` and return result.json's dict.

        Raises InputError (one sentence) for unusable input.
        """
        start = time.time()
        report = progress or (lambda fraction, stage: None)
        report(0.0, "loading")
        scan = load_scan(input_path)
        report(0.05, "preprocessing")
        prepared = self.prepare(scan)
        check_sequence(prepared, self.sequence)  # this model reads one contrast: refuse a scan clearly of another
        report(0.1, "threshold search")
        refined = self.refine(prepared, seed=seed, progress=report)
        report(0.9, "writing results")
        result = self.write_results(prepared, refined, Path(out_dir), start)
        report(1.0, "writing results")
        return result

    def write_results(self, prepared: PreparedScan, refined: RefinementResult, out_dir: Path,
                      start: float) -> dict:
        """Map grid results onto the scan grid, find flags, write files and result.json."""
        out_dir.mkdir(parents=True, exist_ok=True)
        scan = prepared.scan
        peak = float(refined.error.max())
        anomaly_grid = refined.error / peak if peak > 0 else refined.error
        anomaly = np.clip(prepared.to_native(anomaly_grid), 0.0, 1.0) * scan.foreground
        mask = (prepared.to_native(refined.mask.astype(np.float32)) > 0.5) & scan.foreground
        reconstruction = prepared.denormalise(prepared.to_native(refined.reconstruction)) * scan.foreground
        labels, flags, weak = find_flags(mask, anomaly, scan.affine, self.min_flag_mm3, self.min_peak_ratio)
        quality = [issue.to_dict() for issue in rescan_issues(prepared)]
        save_nifti(anomaly.astype(np.float32), scan.affine, out_dir / "anomaly_map.nii.gz", display_range=(0.0, 1.0))
        save_nifti(labels, scan.affine, out_dir / "anomaly_mask.nii.gz", dtype=np.uint16,
                   display_range=(0, max(len(flags), 1)))
        save_nifti(reconstruction.astype(np.float32), scan.affine, out_dir / "reconstruction.nii.gz")
        voxel_mm3 = float(abs(np.linalg.det(scan.affine[:3, :3])))
        brain_voxels = max(int(scan.foreground.sum()), 1)
        mean_error = float(refined.error[prepared.brain].mean())
        result = {
            "score": round(float(mask.sum()) / brain_voxels, 6),
            "mean_error": round(mean_error, 6),
            "initial_mean_error": round(float(refined.initial_mean_error), 6),
            "mask_volume_mm3": round(float(mask.sum()) * voxel_mm3, 2),
            "triage": triage(flags, rescan=bool(quality)),
            "threshold": round(float(refined.threshold), 6),
            "passes": int(refined.passes),
            "seconds": round(time.time() - start, 2),
            "flags": flags,
            "quality": quality,
            "model": self.model_description(),
            "details": {
                "schedule": self.schedule, "gamma": self.gamma, "rise_gamma": self.rise_gamma,
                "rise_late_steps": self.rise_late_steps,
                "min_flag_mm3": self.min_flag_mm3, "min_peak_ratio": self.min_peak_ratio,
                # left out of the flags, not hidden: the reviewer can still find them in the anomaly map
                "weak_regions": [{k: w[k] for k in ("volume_mm3", "centroid_mm", "max_anomaly", "peak_ratio")}
                                 for w in weak],
                "k_star": refined.k_star,
                "derivative": refined.method, "tangent_r2": round(float(refined.r2), 4),
                "refine_sizes": refined.refine_sizes, "registration": prepared.registration,
                "registration_fallback": prepared.registration_fallback, "scaling": self.scaling,
                "normative": self.error_scale is not None,
                "search_steps": refined.search_steps,
                "search_thresholds": [round(float(t), 6) for t in refined.search_thresholds],
                "device": self.device.type,
            },
        }
        (out_dir / "result.json").write_text(json.dumps(result, indent=2))
        return result


@functools.lru_cache(maxsize=8)
def _cached_analyzer(profile: str, sequence: str, device: str, model_path: str | None,
                     require_trained: bool) -> Analyzer:
    return Analyzer(profile=profile, sequence=sequence, device=device, model_path=model_path,
                    require_trained=require_trained)


def load_analyzer(profile: str = "fast", sequence: str = "t1", device: str = "auto",
                  model_path: str | Path | None = None, require_trained: bool = False) -> Analyzer:
    """The Analyzer for these settings, loaded once per process and then reused
    (``require_trained``: see Analyzer)."""
    return _cached_analyzer(profile, sequence, device, None if model_path is None else str(model_path),
                            require_trained)
