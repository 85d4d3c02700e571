"""Random training masks of the spec (1 = masked, noise-filled).

A grid factor s is drawn (4 with p 1/2, 2 with p 1/4, 8 with p 1/4 at 1 mm; divided by the
profile spacing so masks keep their physical size on coarser grids), a centre is picked among
the brain voxels of the s-downsampled brain mask, 100,000 points are drawn from N(c, C) with
C = R diag(l) R^T (l uniform in [0.3, 10], downsampled-voxel units), every hit voxel is
masked, the mask is upsampled by repetition and restricted to the brain.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

FACTOR_PROBABILITIES = (0.5, 0.25, 0.25)  # for factors (4, 2, 8) at 1 mm
N_POINTS = 100_000
EIGEN_RANGE = (0.3, 10.0)


def random_covariance(rng: np.random.Generator) -> np.ndarray:
    """C = R diag(l1, l2, l3) R^T, shape (3, 3), l uniform in EIGEN_RANGE (voxel^2)."""
    rotation = Rotation.random(random_state=rng).as_matrix()
    eigen = rng.uniform(*EIGEN_RANGE, size=3)
    return rotation @ np.diag(eigen) @ rotation.T


def draw_grid_factor(rng: np.random.Generator, grid_factors: tuple[int, int, int] = (4, 2, 8)) -> int:
    """One factor: grid_factors[0] with p 1/2, [1] with p 1/4, [2] with p 1/4."""
    return int(np.asarray(grid_factors)[rng.choice(3, p=FACTOR_PROBABILITIES)])


def random_training_mask(
    brain: np.ndarray,
    rng: np.random.Generator,
    grid_factors: tuple[int, int, int] = (4, 2, 8),
) -> np.ndarray:
    """One random mask.

    brain: (I, J, K) bool brain mask. grid_factors: the factors used in place of (4, 2, 8)
    (see Profile.mask_grid_factors). Returns (I, J, K) bool, a subset of ``brain``.
    """
    brain = np.asarray(brain, dtype=bool)
    factor = draw_grid_factor(rng, grid_factors)
    coarse = brain[::factor, ::factor, ::factor]
    candidates = np.argwhere(coarse)
    if len(candidates) == 0:
        return np.zeros_like(brain)
    centre = candidates[rng.integers(len(candidates))].astype(float)
    points = rng.multivariate_normal(centre, random_covariance(rng), size=N_POINTS)
    hit = np.floor(points + 0.5).astype(np.int64)
    inside = np.all((hit >= 0) & (hit < np.asarray(coarse.shape)), axis=1)
    hit = hit[inside]
    coarse_mask = np.zeros(coarse.shape, dtype=bool)
    coarse_mask[hit[:, 0], hit[:, 1], hit[:, 2]] = True
    full = coarse_mask.repeat(factor, 0).repeat(factor, 1).repeat(factor, 2)
    # Repetition can overshoot the grid when a side is not a multiple of the factor: crop.
    full = full[: brain.shape[0], : brain.shape[1], : brain.shape[2]]
    mask = np.zeros_like(brain)
    mask[: full.shape[0], : full.shape[1], : full.shape[2]] = full
    return mask & brain


def noise_fill(x: np.ndarray, mask: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """x_in = (1 - m) * x + m * n. All arrays (I, J, K); returns float32."""
    m = mask.astype(np.float32)
    return ((1.0 - m) * x + m * noise).astype(np.float32)
