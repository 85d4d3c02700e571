"""Named engine configurations: grid geometry, network width and inference schedule.

Every profile uses a cube with a 192 mm field of view centred on the MNI152 brain, so the
high-frequency radius (15 k-space indices in the spec at 192^3 / 1 mm) removes the same
physical frequency band on every grid.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Centre (mm, RAS, MNI152 2009) of the template brain's bounding box; measured on the nilearn
# template: x -73..73, y -108..75, z -72..84.
MNI_BRAIN_CENTRE_MM = (0.0, -16.5, 6.0)
REFERENCE_FOV_MM = 192.0
REFERENCE_HF_RADIUS = 15.0


@dataclass(frozen=True)
class Profile:
    """One engine configuration.

    spacing_mm: isotropic voxel size of the working grid (mm).
    shape: working grid (I, J, K) voxels, each divisible by 16 (four stride-2 levels).
    channels / bottleneck: encoder widths and bottleneck width of the residual U-Net.
    search_schedule: default threshold-search schedule (see inference.search_schedule);
        "spec" is the 100-step search.
    gamma: derivative threshold (error units per 1 % step) that picks k*.
    min_flag_mm3: smallest connected component reported as a flag (mm^3).
    """

    name: str
    spacing_mm: float
    shape: tuple[int, int, int]
    channels: tuple[int, ...]
    bottleneck: int
    dropout: float
    decoder_channels: tuple[int, ...] | None = None
    search_schedule: str = "spec"
    gamma: float = 0.02
    min_flag_mm3: float = 100.0
    max_refine_passes: int = 30
    train_batch: int = 2
    train_crop: tuple[int, int, int] | None = None
    notes: str = field(default="", compare=False)

    @property
    def fov_mm(self) -> np.ndarray:
        """Field of view per axis (mm), shape (3,)."""
        return np.asarray(self.shape, dtype=float) * self.spacing_mm

    @property
    def hf_radius(self) -> np.ndarray:
        """High-frequency sphere radius per axis in k-space index units, shape (3,)."""
        return REFERENCE_HF_RADIUS * self.fov_mm / REFERENCE_FOV_MM

    @property
    def grid_affine(self) -> np.ndarray:
        """4x4 voxel-index -> MNI mm (RAS) affine of the working grid."""
        aff = np.eye(4)
        aff[:3, :3] *= self.spacing_mm
        centre_index = (np.asarray(self.shape, dtype=float) - 1.0) / 2.0
        aff[:3, 3] = np.asarray(MNI_BRAIN_CENTRE_MM) - self.spacing_mm * centre_index
        return aff

    @property
    def mask_grid_factors(self) -> tuple[int, int, int]:
        """Training-mask downsampling factors (4, 2, 8 at 1 mm) scaled to keep physical size."""
        return tuple(max(1, int(round(s / self.spacing_mm))) for s in (4, 2, 8))  # type: ignore[return-value]


PROFILES: dict[str, Profile] = {
    "paper": Profile(
        name="paper", spacing_mm=1.0, shape=(192, 192, 192), channels=(16, 32, 64, 128),
        bottleneck=256, dropout=0.2, decoder_channels=(224, 128, 64, 32), search_schedule="spec",
        notes="spec configuration, for a GPU",
    ),
    "fast": Profile(
        name="fast", spacing_mm=2.0, shape=(96, 96, 96), channels=(8, 16, 32, 64),
        bottleneck=128, dropout=0.1, search_schedule="spec", min_flag_mm3=120.0,
        train_crop=(64, 80, 64), notes="2 mm grid, for a CPU",
    ),
    "tiny": Profile(
        name="tiny", spacing_mm=4.0, shape=(48, 48, 48), channels=(4, 8, 8, 16),
        bottleneck=16, dropout=0.0, search_schedule="uniform5", min_flag_mm3=256.0, max_refine_passes=10,
        notes="4 mm grid, very small width: tests only",
    ),
}

SEQUENCES = ("t1", "t2", "flair")


def get_profile(name: str) -> Profile:
    """Return the profile called ``name``; raise ValueError listing the valid names."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}") from None
