"""Mapping volumes between voxel grids through world coordinates (mm)."""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def resample(
    source: np.ndarray,
    source_affine: np.ndarray,
    target_affine: np.ndarray,
    target_shape: tuple[int, int, int],
    target_to_source_world: np.ndarray | None = None,
    order: int = 1,
    cval: float = 0.0,
) -> np.ndarray:
    """Sample ``source`` (I, J, K) on a target grid.

    Each target voxel v maps to source voxel inv(source_affine) @ W @ target_affine @ v, where
    W (4x4, target world mm -> source world mm) is ``target_to_source_world`` (identity if
    None). order: spline order (0 nearest, 1 linear). Returns float32 of ``target_shape``.
    """
    world = np.eye(4) if target_to_source_world is None else target_to_source_world
    full = np.linalg.inv(source_affine) @ world @ target_affine
    out = ndimage.affine_transform(
        np.asarray(source, dtype=np.float32), full[:3, :3], full[:3, 3],
        output_shape=tuple(int(s) for s in target_shape), order=order, mode="constant", cval=cval,
    )
    return out.astype(np.float32)


def antialias(data: np.ndarray, affine: np.ndarray, target_spacing_mm: float) -> np.ndarray:
    """Gaussian pre-filter before downsampling to ``target_spacing_mm``; sigma per axis
    (source voxels) = (target / source spacing - 1) / 2, zero where no downsampling."""
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    sigma = np.maximum(0.0, (target_spacing_mm / spacing - 1.0) / 2.0)
    if np.all(sigma < 0.05):
        return data
    return ndimage.gaussian_filter(data, sigma).astype(np.float32)
