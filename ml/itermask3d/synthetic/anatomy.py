"""Synthetic normal brains from the MNI152 template's T1 and grey/white-matter maps.

A subject is the template seen through a random small affine and a smooth random
deformation, rendered as T1, T2 or FLAIR from randomised tissue intensities, with a
multiplicative bias field and Rician noise, skull-stripped (background exactly 0).
Coordinates are world millimetres (RAS); the template lives in MNI millimetres.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial.transform import Rotation

from ..template import load_template

# Mean tissue intensities (relative units) per sequence and the +- jitter drawn per subject.
TISSUE_MEANS = {
    "t1": {"wm": 1.00, "gm": 0.64, "csf": 0.24},
    "t2": {"wm": 0.45, "gm": 0.62, "csf": 1.00},
    "flair": {"wm": 0.52, "gm": 0.70, "csf": 0.12},
}
TISSUE_JITTER = 0.08


def tissue_contrast(sequence: str, rng: np.random.Generator) -> dict[str, float]:
    """Random tissue means for one subject (relative intensity units)."""
    base = TISSUE_MEANS[sequence]
    return {k: float(v * (1.0 + rng.uniform(-TISSUE_JITTER, TISSUE_JITTER))) for k, v in base.items()}


def smooth_field(shape: tuple[int, ...], rng: np.random.Generator, control: int = 5) -> np.ndarray:
    """Smooth random field of ``shape`` with unit-ish amplitude: control^3 Gaussian values,
    cubic zoom to a quarter-resolution grid, then linear zoom to ``shape`` (the second step
    is cheap and adds no visible kinks at that density)."""
    coarse = rng.standard_normal((control,) * len(shape))
    middle = tuple(max(control, (s + 3) // 4) for s in shape)
    field = ndimage.zoom(coarse, [m / control for m in middle], order=3, mode="nearest", grid_mode=True)
    field = ndimage.zoom(field, [s / m for s, m in zip(shape, field.shape)], order=1, mode="nearest", grid_mode=True)
    return field.astype(np.float32)[tuple(slice(0, s) for s in shape)]


@dataclass
class SubjectGeometry:
    """World (subject) mm -> template mm: q = A p + t + d(p), d a smooth displacement.

    matrix (3, 3) and offset (3,) in mm; displacement_mm: amplitude of the deformation;
    seed: seeds the deformation's control points.
    """

    matrix: np.ndarray
    offset: np.ndarray
    displacement_mm: float
    seed: int

    @classmethod
    def random(cls, rng: np.random.Generator, rotation_deg: float = 8.0, scale: float = 0.06,
               shift_mm: float = 6.0, displacement_mm: float = 2.5) -> "SubjectGeometry":
        angles = rng.uniform(-rotation_deg, rotation_deg, 3)
        rot = Rotation.from_euler("xyz", angles, degrees=True).as_matrix()
        scales = 1.0 + rng.uniform(-scale, scale, 3)
        return cls(matrix=rot @ np.diag(scales), offset=rng.uniform(-shift_mm, shift_mm, 3),
                   displacement_mm=displacement_mm, seed=int(rng.integers(2**31)))

    def world_to_template_affine(self) -> np.ndarray:
        """4x4 affine part (template mm from subject world mm), deformation excluded."""
        aff = np.eye(4)
        aff[:3, :3] = self.matrix
        aff[:3, 3] = self.offset
        return aff

    def template_coordinates(self, affine: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
        """Template mm of every voxel of a grid: (3, I, J, K) float32."""
        full = self.world_to_template_affine() @ affine
        grids = np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij", sparse=True)
        coords = np.empty((3, *shape), dtype=np.float32)
        field_rng = np.random.default_rng(self.seed)
        for axis in range(3):
            coords[axis] = (full[axis, 0] * grids[0] + full[axis, 1] * grids[1]
                            + full[axis, 2] * grids[2] + full[axis, 3])
            if self.displacement_mm > 0:
                coords[axis] += self.displacement_mm * smooth_field(shape, field_rng)
        return coords


@functools.lru_cache(maxsize=4)
def _smoothed_template(spacing_mm: float) -> dict[str, np.ndarray]:
    """Template maps blurred to the resolution of ``spacing_mm`` (anti-aliasing)."""
    tpl = load_template()
    sigma = max(0.0, (spacing_mm - 1.0) / 2.0)
    maps = {"gm": tpl.gm, "wm": tpl.wm, "csf": tpl.csf, "brain": tpl.brain.astype(np.float32),
            "t1": tpl.t1}
    if sigma > 0:
        maps = {k: ndimage.gaussian_filter(v, sigma) for k, v in maps.items()}
    return maps


def sample_tissues(coords_mm: np.ndarray, spacing_mm: float) -> dict[str, np.ndarray]:
    """Tissue maps at template mm ``coords_mm`` (3, I, J, K): gm, wm, csf, brain (0..1), t1."""
    tpl = load_template()
    maps = _smoothed_template(round(float(spacing_mm), 1))
    inv = np.linalg.inv(tpl.affine)
    vox = np.einsum("ij,j...->i...", inv[:3, :3], coords_mm) + inv[:3, 3].reshape(3, 1, 1, 1)
    return {k: ndimage.map_coordinates(v, vox, order=1, mode="constant", cval=0.0).astype(np.float32)
            for k, v in maps.items()}


def compose_image(tissues: dict[str, np.ndarray], means: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """Clean intensity image (I, J, K) from partial-volume tissue maps and tissue means."""
    image = tissues["gm"] * means["gm"] + tissues["wm"] * means["wm"] + tissues["csf"] * means["csf"]
    # Mild smooth texture so that intensities are not piecewise constant.
    texture = 1.0 + 0.02 * smooth_field(image.shape, rng, control=12)
    return (image * texture).astype(np.float32)


def brain_mask(tissues: dict[str, np.ndarray]) -> np.ndarray:
    """Subject brain mask (bool) from the sampled template brain map."""
    return tissues["brain"] > 0.5


def bias_field(shape: tuple[int, int, int], rng: np.random.Generator, strength: float) -> np.ndarray:
    """Multiplicative smooth bias exp(strength * field), shape ``shape``."""
    return np.exp(strength * smooth_field(shape, rng, control=3)).astype(np.float32)


def rician_noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """|image + n1 + i n2| with n1, n2 ~ N(0, sigma^2)."""
    real = image + rng.normal(0.0, sigma, image.shape).astype(np.float32)
    imag = rng.normal(0.0, sigma, image.shape).astype(np.float32)
    return np.sqrt(real * real + imag * imag).astype(np.float32)


def finish_scan(image: np.ndarray, brain: np.ndarray, rng: np.random.Generator,
                bias_strength: float | None = None, noise_fraction: float | None = None) -> np.ndarray:
    """Apply bias field and Rician noise, then skull-strip (background exactly 0)."""
    strength = rng.uniform(0.05, 0.2) if bias_strength is None else bias_strength
    noise = rng.uniform(0.01, 0.03) if noise_fraction is None else noise_fraction
    out = image * bias_field(image.shape, rng, strength)
    out = rician_noise(out, noise * float(np.percentile(out[brain], 95)), rng)
    return np.where(brain, out, 0.0).astype(np.float32)
