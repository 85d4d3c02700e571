"""Synthetic lesions painted into a rendered brain, with their ground-truth masks.

Lesions are defined in template (MNI) millimetres, so they follow the subject's deformation:
each is an irregular blob (distance to a centre, perturbed by a smooth random field) with a
soft ~1.5 mm partial-volume edge. Kinds: tumour (heterogeneous mass, necrotic centre,
surrounding oedema), cavity (CSF-filled, hypointense on T1/FLAIR), small (several small
white-matter lesions).
"""
from __future__ import annotations

import functools

import numpy as np
from scipy import ndimage

from ..template import load_template
from .anatomy import smooth_field

LESION_TYPES = ("tumour", "cavity", "small")
EDGE_MM = 1.5

# Lesion tissue intensities relative to the subject's tissue means (see anatomy.TISSUE_MEANS):
# expressed as mixtures "fraction of csf/gm/wm mean" plus a relative factor.
LESION_INTENSITY = {
    #            tumour core                 necrosis            oedema                  small lesion
    "t1": {"core": ("gm", 0.80), "necrosis": ("csf", 1.3), "oedema": ("gm", 1.05), "small": ("gm", 0.85),
           "cavity": ("csf", 0.9)},
    "t2": {"core": ("csf", 0.75), "necrosis": ("csf", 0.95), "oedema": ("csf", 0.85), "small": ("csf", 0.85),
           "cavity": ("csf", 1.0)},
    "flair": {"core": ("gm", 1.30), "necrosis": ("gm", 0.55), "oedema": ("gm", 1.45), "small": ("gm", 1.45),
              "cavity": ("csf", 0.9)},
}


def _lesion_value(sequence: str, part: str, means: dict[str, float], rng: np.random.Generator) -> float:
    tissue, factor = LESION_INTENSITY[sequence][part]
    return means[tissue] * factor * float(rng.uniform(0.92, 1.08))


@functools.lru_cache(maxsize=1)
def _brain_depth_mm() -> np.ndarray:
    """Distance (mm) of every template voxel to the outside of the brain (1 mm voxels)."""
    return ndimage.distance_transform_edt(load_template().brain).astype(np.float32)


def pick_centre(radius_mm: float, rng: np.random.Generator, white_matter: bool = True) -> np.ndarray:
    """A template-mm point at least ``radius_mm`` + 4 mm inside the brain (in white matter
    when requested, falling back to any brain voxel)."""
    tpl = load_template()
    depth = _brain_depth_mm()
    ok = depth > radius_mm + 4.0
    if white_matter and np.any(ok & (tpl.wm > 0.6)):
        ok &= tpl.wm > 0.6
    if not np.any(ok):
        ok = depth >= depth.max() - 1
    candidates = np.argwhere(ok)
    voxel = candidates[rng.integers(len(candidates))]
    return tpl.affine[:3, :3] @ voxel + tpl.affine[:3, 3]


def blob(coords_mm: np.ndarray, centre: np.ndarray, radius_mm: float, rng: np.random.Generator,
         irregularity: float = 0.25) -> np.ndarray:
    """Soft membership (0..1, 0.5 at the boundary) of an irregular blob, shape coords[0].shape."""
    offset = coords_mm - centre.reshape(3, 1, 1, 1).astype(np.float32)
    distance = np.sqrt(np.sum(offset**2, axis=0)) / radius_mm
    near = distance < 2.0 / (1.0 - irregularity)
    if np.any(near):
        # The wobble only matters near the blob: compute it in the bounding box there.
        box = ndimage.find_objects(near.astype(np.int8))[0]
        wobble = smooth_field(distance[box].shape, rng, control=6)
        distance[box] *= 1.0 + irregularity * np.tanh(wobble)
    return np.clip((1.0 - distance) * radius_mm / EDGE_MM + 0.5, 0.0, 1.0).astype(np.float32)


def _paint(image: np.ndarray, alpha: np.ndarray, value: float, rng: np.random.Generator) -> np.ndarray:
    """Blend ``value`` (with a mild texture) into ``image`` with weights ``alpha``, in place."""
    box = ndimage.find_objects((alpha > 0).astype(np.int8))
    if not box:
        return image
    region = box[0]
    a = alpha[region]
    texture = 1.0 + 0.05 * smooth_field(a.shape, rng, control=4)
    image[region] = image[region] * (1.0 - a) + a * value * texture
    return image


def add_lesion(image: np.ndarray, coords_mm: np.ndarray, tissues: dict[str, np.ndarray],
               means: dict[str, float], sequence: str, rng: np.random.Generator,
               lesion_type: str | None = None, size_mm: float | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Paint one lesion (or a set of small lesions) into ``image``.

    image: (I, J, K) clean intensities; coords_mm: (3, I, J, K) template mm of each voxel;
    size_mm: radius of the tumour core / cavity (default 8-18 mm) or of each small lesion
    (default 2.5-5 mm). Returns (image, truth (I, J, K) bool, info dict).
    """
    lesion_type = lesion_type or str(rng.choice(LESION_TYPES))
    if lesion_type not in LESION_TYPES:
        raise ValueError(f"unknown lesion type {lesion_type!r}; choose from {', '.join(LESION_TYPES)}")
    inside_brain = tissues["brain"] > 0.5
    info: dict = {"lesion_type": lesion_type}
    if lesion_type == "tumour":
        radius = float(size_mm or rng.uniform(8.0, 18.0))
        centre = pick_centre(radius * 1.6, rng)
        oedema_radius = radius * float(rng.uniform(1.4, 1.8))
        oedema = blob(coords_mm, centre, oedema_radius, rng, irregularity=0.35)
        # Oedema spreads along white matter: weight by the white-matter probability.
        oedema *= np.clip(tissues["wm"] * 1.5 + 0.3, 0.0, 1.0)
        core = blob(coords_mm, centre, radius, rng)
        necrosis = blob(coords_mm, centre, radius * 0.45, rng)
        image = _paint(image, oedema, _lesion_value(sequence, "oedema", means, rng), rng)
        image = _paint(image, core, _lesion_value(sequence, "core", means, rng), rng)
        image = _paint(image, necrosis, _lesion_value(sequence, "necrosis", means, rng), rng)
        truth = (np.maximum(oedema, core) > 0.5) & inside_brain
        info.update(radius_mm=radius, oedema_radius_mm=oedema_radius, centre_mni_mm=[float(c) for c in centre])
    elif lesion_type == "cavity":
        radius = float(size_mm or rng.uniform(8.0, 16.0))
        centre = pick_centre(radius, rng, white_matter=False)
        cavity = blob(coords_mm, centre, radius, rng, irregularity=0.3)
        image = _paint(image, cavity, _lesion_value(sequence, "cavity", means, rng), rng)
        truth = (cavity > 0.5) & inside_brain
        info.update(radius_mm=radius, centre_mni_mm=[float(c) for c in centre])
    else:
        count = int(rng.integers(3, 8))
        truth = np.zeros(image.shape, dtype=bool)
        radii = []
        for _ in range(count):
            radius = float(size_mm or rng.uniform(2.5, 5.0))
            centre = pick_centre(radius, rng)
            spot = blob(coords_mm, centre, radius, rng, irregularity=0.2)
            image = _paint(image, spot, _lesion_value(sequence, "small", means, rng), rng)
            truth |= (spot > 0.5) & inside_brain
            radii.append(radius)
        info.update(count=count, radii_mm=radii)
    return image, truth, info
