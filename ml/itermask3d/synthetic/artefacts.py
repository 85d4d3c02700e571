"""Synthetic acquisition artefacts applied to a rendered scan (scan grid, any orientation).

Each artefact acts on the whole acquisition and the result is skull-stripped again with the
brain mask (uploads are brain-extracted after acquisition).
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import affine_transform
from scipy.spatial.transform import Rotation

from .anatomy import bias_field, rician_noise

# The spec's artefacts (plus motion), which change intensities inside the brain ...
SPEC_ARTEFACTS = ("slab_top", "slab_middle", "bias", "spike", "ghosting", "noise", "zipper", "motion")
# ... and slices lost in acquisition, zero after skull stripping, which leave a gap in the brain.
GAP_ARTEFACTS = ("slices_missing", "slices_cut")
ARTEFACTS = SPEC_ARTEFACTS + GAP_ARTEFACTS


def _superior_coordinate(affine: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """World z (mm, superior) of every voxel, (I, J, K) float32."""
    grids = np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij", sparse=True)
    z = affine[2, 0] * grids[0] + affine[2, 1] * grids[1] + affine[2, 2] * grids[2] + affine[2, 3]
    return z.astype(np.float32)


def missing_slab(image, brain, affine, rng, where: str) -> tuple[np.ndarray, dict]:
    """An axial slab (10-20 mm) at the top of the brain or through its middle set to the
    brain's minimum intensity."""
    z = _superior_coordinate(affine, image.shape)
    z_brain = z[brain]
    thickness = float(rng.uniform(10.0, 20.0))
    if where == "top":
        top = float(z_brain.max())
        low, high = top - thickness, top + 1.0
    else:
        middle = float(np.median(z_brain)) + float(rng.uniform(-10, 10))
        low, high = middle - thickness / 2, middle + thickness / 2
    slab = (z >= low) & (z <= high) & brain
    out = image.copy()
    out[slab] = float(image[brain].min())
    return out, {"slab_mm": [low, high]}


def _slice_axis(affine: np.ndarray) -> int:
    """The acquisition's slice axis: the thickest voxel axis, or the one closest to superior."""
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    if spacing.max() > 1.2 * spacing.min():
        return int(np.argmax(spacing))
    return int(np.argmax(np.abs(affine[2, :3]) / spacing))


def dropped_slices(image, brain, affine, rng, where: str) -> tuple[np.ndarray, dict]:
    """Slices lost in acquisition, zero after skull stripping: 10-20 mm of planes along the slice
    axis, through the middle of the brain ("middle") or its superior end ("top")."""
    axis = _slice_axis(affine)
    spacing = float(np.linalg.norm(affine[:3, axis]))
    planes = np.flatnonzero(brain.any(axis=tuple(a for a in range(3) if a != axis)))
    count = max(2, int(round(float(rng.uniform(10.0, 20.0)) / spacing)))
    if where == "top":
        # The superior end of the axis: where world z grows along it.
        start = int(planes[-1]) - count + 1 if affine[2, axis] > 0 else int(planes[0])
    else:
        centre = int(np.median(planes)) + int(rng.integers(-count, count + 1))
        start = centre - count // 2
    index = [slice(None)] * 3
    index[axis] = slice(start, start + count)
    out = image.copy()
    out[tuple(index)] = 0.0
    return out, {"axis": axis, "planes": [start, start + count - 1], "thickness_mm": count * spacing}


def strong_bias(image, brain, affine, rng) -> tuple[np.ndarray, dict]:
    strength = float(rng.uniform(0.4, 0.7))
    return image * bias_field(image.shape, rng, strength), {"strength": strength}


def kspace_spike(image, brain, affine, rng) -> tuple[np.ndarray, dict]:
    """A single bright k-space point (away from the centre) -> stripes across the image."""
    spectrum = np.fft.fftn(image)
    index = tuple(int(rng.integers(n // 8, 3 * n // 8)) * int(rng.choice([-1, 1])) % n for n in image.shape)
    # The image-domain stripe amplitude is magnitude / N = c * (mean over the whole volume):
    # c of 0.3-0.6 gives stripes of roughly 10-20 % of the brain intensity.
    magnitude = float(rng.uniform(0.3, 0.6)) * float(np.abs(spectrum).max())
    spectrum[index] += magnitude * np.exp(1j * rng.uniform(0, 2 * np.pi))
    return np.abs(np.fft.ifftn(spectrum)).astype(np.float32), {"kspace_index": list(index)}


def ghosting(image, brain, affine, rng) -> tuple[np.ndarray, dict]:
    """Shifted faint copies along one (phase-encoding) axis."""
    axis = int(rng.integers(3))
    strength = float(rng.uniform(0.15, 0.3))
    shift = image.shape[axis] // int(rng.choice([2, 3, 4]))
    out = image + strength * (np.roll(image, shift, axis) + np.roll(image, -shift, axis)) / 2
    return out.astype(np.float32), {"axis": axis, "strength": strength}


def heavy_noise(image, brain, affine, rng) -> tuple[np.ndarray, dict]:
    fraction = float(rng.uniform(0.08, 0.15))
    sigma = fraction * float(np.percentile(image[brain], 95))
    return rician_noise(image, sigma, rng), {"noise_fraction": fraction}


def zipper(image, brain, affine, rng) -> tuple[np.ndarray, dict]:
    """1-3 planes of alternating bright/dark voxels (RF interference)."""
    out = image.copy()
    axis = int(rng.integers(3))
    level = float(np.percentile(image[brain], 95))
    centre = np.argwhere(brain).mean(axis=0)
    planes = []
    for _ in range(int(rng.integers(1, 4))):
        position = int(np.clip(centre[axis] + rng.uniform(-25, 25) / np.linalg.norm(affine[:3, axis]),
                               0, image.shape[axis] - 1))
        index = [slice(None)] * 3
        index[axis] = position
        plane = out[tuple(index)]
        checker = np.indices(plane.shape).sum(axis=0) % 2
        plane += level * float(rng.uniform(0.5, 1.0)) * (2 * checker - 1)
        planes.append(position)
    return np.clip(out, 0, None), {"axis": axis, "planes": planes}


def motion(image, brain, affine, rng) -> tuple[np.ndarray, dict]:
    """Part of k-space (random phase-encoding lines) acquired after a rigid head movement."""
    angles = rng.uniform(-5, 5, 3)
    shift_vox = rng.uniform(-4, 4, 3)
    centre = (np.asarray(image.shape) - 1) / 2
    rot = Rotation.from_euler("xyz", angles, degrees=True).as_matrix()
    moved = affine_transform(image, rot, centre - rot @ centre + shift_vox, order=1)
    axis = int(rng.integers(3))
    fraction = float(rng.uniform(0.3, 0.5))
    lines = rng.random(image.shape[axis]) < fraction
    k_still, k_moved = np.fft.fftn(image), np.fft.fftn(moved)
    selector = np.zeros(image.shape, dtype=bool)
    index = [None] * 3
    index[axis] = slice(None)
    selector |= np.fft.ifftshift(lines)[tuple(index)]
    spectrum = np.where(selector, k_moved, k_still)
    return np.abs(np.fft.ifftn(spectrum)).astype(np.float32), {"angles_deg": [float(a) for a in angles],
                                                             "fraction": fraction, "axis": axis}


def add_artefact(image: np.ndarray, brain: np.ndarray, affine: np.ndarray, rng: np.random.Generator,
                 artefact_type: str | None = None) -> tuple[np.ndarray, dict]:
    """Apply one artefact (random if None); returns (image (I, J, K) float32, info)."""
    artefact_type = artefact_type or str(rng.choice(ARTEFACTS))
    functions = {
        "slab_top": lambda: missing_slab(image, brain, affine, rng, "top"),
        "slab_middle": lambda: missing_slab(image, brain, affine, rng, "middle"),
        "slices_missing": lambda: dropped_slices(image, brain, affine, rng, "middle"),
        "slices_cut": lambda: dropped_slices(image, brain, affine, rng, "top"),
        "bias": lambda: strong_bias(image, brain, affine, rng),
        "spike": lambda: kspace_spike(image, brain, affine, rng),
        "ghosting": lambda: ghosting(image, brain, affine, rng),
        "noise": lambda: heavy_noise(image, brain, affine, rng),
        "zipper": lambda: zipper(image, brain, affine, rng),
        "motion": lambda: motion(image, brain, affine, rng),
    }
    if artefact_type not in functions:
        raise ValueError(f"unknown artefact {artefact_type!r}; choose from {', '.join(ARTEFACTS)}")
    out, info = functions[artefact_type]()
    info["artefact_type"] = artefact_type
    return np.where(brain, out, 0.0).astype(np.float32), info
