"""Whole synthetic cases: a normal brain, optionally with a lesion or an artefact.

``make_case`` renders on a scan-like native grid (any spacing/orientation) and returns a
NIfTI image plus the lesion ground truth; ``grid_training_volume`` renders a normal brain
directly on a profile grid for training (as the preprocessing would deliver it).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import nibabel as nib
import numpy as np
from scipy.spatial.transform import Rotation

from ..profiles import MNI_BRAIN_CENTRE_MM, Profile
from . import anatomy

CASE_KINDS = ("normal", "lesion", "artefact")
BRAIN_EXTENT_MM = np.array([176.0, 214.0, 186.0])  # template brain bounding box + room for the subject transform


@dataclass
class SyntheticCase:
    """image: the scan (float32 NIfTI); truth: lesion mask NIfTI (uint8) or None;
    info: what was drawn (kind, sequence, lesion/artefact type, sizes, seed)."""

    image: nib.Nifti1Image
    truth: nib.Nifti1Image | None
    info: dict = field(default_factory=dict)


def grid_training_volume(profile: Profile, sequence: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A normal brain on ``profile``'s grid with residual misalignment as after registration.

    Returns (volume, brain): (I, J, K) float32 in arbitrary positive units, bool.
    """
    geometry = anatomy.SubjectGeometry.random(rng, rotation_deg=6.0, scale=0.06, shift_mm=4.0,
                                              displacement_mm=float(rng.uniform(0.5, 3.0)))
    coords = geometry.template_coordinates(profile.grid_affine, profile.shape)
    tissues = anatomy.sample_tissues(coords, profile.spacing_mm)
    brain = anatomy.brain_mask(tissues)
    image = anatomy.compose_image(tissues, anatomy.tissue_contrast(sequence, rng), rng)
    image = anatomy.finish_scan(image, brain, rng, noise_fraction=float(rng.uniform(0.003, 0.02)))
    return image, brain


def native_grid(rng: np.random.Generator, spacing_mm=(1.0, 1.0, 1.0),
                oblique: bool = False) -> tuple[np.ndarray, tuple[int, int, int]]:
    """A scan grid covering the brain: (4x4 affine, shape). Oblique grids are randomly rotated
    (up to 30 degrees) and their axes randomly permuted/flipped."""
    spacing = np.asarray(spacing_mm, dtype=float)
    rotation = np.eye(3)
    if oblique:
        perm = rng.permutation(3)
        flips = rng.choice([-1.0, 1.0], size=3)
        rotation = (Rotation.from_euler("xyz", rng.uniform(-30, 30, 3), degrees=True).as_matrix()
                    @ np.eye(3)[:, perm] @ np.diag(flips))
    extent = np.abs(rotation.T) @ BRAIN_EXTENT_MM  # extent along each rotated axis
    shape = tuple(int(np.ceil(e / s)) for e, s in zip(extent, spacing))
    affine = np.eye(4)
    affine[:3, :3] = rotation @ np.diag(spacing)
    centre_index = (np.asarray(shape) - 1) / 2.0
    affine[:3, 3] = np.asarray(MNI_BRAIN_CENTRE_MM) - affine[:3, :3] @ centre_index
    return affine, shape  # type: ignore[return-value]


def make_case(kind: str, sequence: str, seed: int, spacing_mm=(1.0, 1.0, 1.0), oblique: bool = False,
              lesion_type: str | None = None, lesion_size_mm: float | None = None,
              artefact_type: str | None = None, intensity_scale: float | None = None) -> SyntheticCase:
    """Render one case of ``kind`` (normal, lesion, artefact) for ``sequence`` (t1, t2, flair).

    lesion_type: tumour, cavity or small (random if None); lesion_size_mm: radius of the
    tumour core / cavity or of the small lesions. artefact_type: one of artefacts.ARTEFACTS.
    """
    from . import artefacts, lesions

    if kind not in CASE_KINDS:
        raise ValueError(f"unknown case kind {kind!r}; choose from {', '.join(CASE_KINDS)}")
    rng = np.random.default_rng(seed)
    affine, shape = native_grid(rng, spacing_mm, oblique)
    geometry = anatomy.SubjectGeometry.random(rng)
    coords = geometry.template_coordinates(affine, shape)
    spacing = float(np.min(spacing_mm))
    tissues = anatomy.sample_tissues(coords, spacing)
    brain = anatomy.brain_mask(tissues)
    means = anatomy.tissue_contrast(sequence, rng)
    image = anatomy.compose_image(tissues, means, rng)
    info: dict = {"kind": kind, "sequence": sequence, "seed": seed,
                  "spacing_mm": [float(s) for s in spacing_mm], "oblique": oblique}
    truth = None
    if kind == "lesion":
        image, truth, lesion_info = lesions.add_lesion(image, coords, tissues, means, sequence, rng,
                                                       lesion_type, lesion_size_mm)
        truth &= brain
        info.update(lesion_info)
    image = anatomy.finish_scan(image, brain, rng)
    if kind == "artefact":
        image, artefact_info = artefacts.add_artefact(image, brain, affine, rng, artefact_type)
        info.update(artefact_info)
    scale = float(rng.uniform(300, 2000)) if intensity_scale is None else intensity_scale
    image_nii = nib.Nifti1Image((image * scale).astype(np.float32), affine)
    image_nii.header.set_xyzt_units("mm")
    truth_nii = None
    if truth is not None:
        truth_nii = nib.Nifti1Image(truth.astype(np.uint8), affine)
        truth_nii.header.set_xyzt_units("mm")
        info["truth_voxels"] = int(truth.sum())
        info["truth_ml"] = float(truth.sum() * np.prod(spacing_mm) / 1000.0)
    return SyntheticCase(image=image_nii, truth=truth_nii, info=info)
