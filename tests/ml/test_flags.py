"""Lesion flags on the scan grid: size limit, peak ratio, the fields a reviewer reads."""
import numpy as np
import pytest

from itermask3d.flags import find_flags

# 1 x 1 x 2 mm voxels, shifted: volumes and centroids must use the affine
AFFINE = np.array([[1.0, 0, 0, -10.0], [0, 1.0, 0, 20.0], [0, 0, 2.0, 5.0], [0, 0, 0, 1]])


def _cube(mask, anomaly, corner, size, peak):
    region = tuple(slice(c, c + size) for c in corner)
    mask[region] = True
    anomaly[region] = peak * 0.5
    anomaly[corner] = peak  # one voxel at the region's peak


def _scene():
    """A strong 6^3 region (peak 0.9), a weaker 5^3 region (peak 0.3), a strong 2^3 speck (peak 1.0)."""
    mask = np.zeros((40, 40, 20), dtype=bool)
    anomaly = np.zeros(mask.shape, dtype=np.float32)
    _cube(mask, anomaly, (2, 2, 2), 6, 0.9)
    _cube(mask, anomaly, (25, 25, 10), 5, 0.3)
    _cube(mask, anomaly, (30, 5, 2), 2, 1.0)
    return mask, anomaly


def test_flags_carry_volume_centroid_and_box_in_the_scans_own_units():
    mask, anomaly = _scene()
    labels, flags, weak = find_flags(mask, anomaly, AFFINE, min_volume_mm3=100.0)
    assert weak == [] and [f["label"] for f in flags] == [1, 2]  # the 16 mm^3 speck is below the size limit
    big = flags[0]
    assert big["voxel_count"] == 216 and big["volume_mm3"] == pytest.approx(432.0)
    assert big["centroid_voxel"] == [4, 4, 4] and big["centroid_mm"] == pytest.approx([-5.5, 24.5, 14.0])
    assert big["bbox_voxel"] == [[2, 2, 2], [7, 7, 7]] and big["max_anomaly"] == pytest.approx(0.9)
    assert set(np.unique(labels)) == {0, 1, 2} and (labels == 2).sum() == 125


def test_a_region_far_weaker_than_the_strongest_flag_is_listed_as_weak_not_flagged():
    mask, anomaly = _scene()
    labels, flags, weak = find_flags(mask, anomaly, AFFINE, min_volume_mm3=100.0, min_peak_ratio=0.5)
    # the speck's peak (1.0) does not count: it is too small to be a flag, so 0.9 is the strongest
    assert [f["voxel_count"] for f in flags] == [216] and flags[0]["label"] == 1
    assert len(weak) == 1 and weak[0]["voxel_count"] == 125
    assert weak[0]["peak_ratio"] == pytest.approx(0.3 / 0.9, abs=1e-3) and "label" not in weak[0]
    assert (labels > 0).sum() == 216 and labels[27, 27, 12] == 0  # nothing of the weak region in the mask


def test_a_ratio_at_or_below_the_weaker_peak_keeps_both():
    mask, anomaly = _scene()
    _, flags, weak = find_flags(mask, anomaly, AFFINE, min_volume_mm3=100.0, min_peak_ratio=0.3)
    assert len(flags) == 2 and weak == []


def test_an_empty_mask_has_no_flags():
    labels, flags, weak = find_flags(np.zeros((8, 8, 8), bool), np.zeros((8, 8, 8)), AFFINE, 100.0, 0.5)
    assert flags == [] and weak == [] and not labels.any()


def test_a_flag_is_anchored_inside_itself_even_where_its_centroid_is_not():
    """Go to flag moves the viewer to the anchor, which must be a voxel of the flag: a ring's centroid lies in its
    unflagged hole. Where the anomaly is even, the anchor is the flag voxel deepest inside it nearest the centroid."""
    mask = np.zeros((40, 40, 20), dtype=bool)
    anomaly = np.zeros(mask.shape, dtype=np.float32)
    i, j = np.indices((40, 40))
    ring = (np.hypot(i - 20, j - 20) >= 8) & (np.hypot(i - 20, j - 20) <= 11)
    mask[ring, 8:12] = True
    anomaly[mask] = 0.5
    _cube(mask, anomaly, (2, 2, 2), 6, 0.9)
    _, flags, _ = find_flags(mask, anomaly, AFFINE, min_volume_mm3=100.0)
    ring_flag = next(f for f in flags if f["bbox_voxel"][0][0] > 5)
    cube_flag = next(f for f in flags if f["bbox_voxel"][0][0] == 2)
    assert not mask[tuple(ring_flag["centroid_voxel"])]  # the hole
    anchor = ring_flag["anchor_voxel"]
    assert mask[tuple(anchor)] and 8.5 <= np.hypot(anchor[0] - 20, anchor[1] - 20) <= 10.5 and anchor[2] in (9, 10)
    assert ring_flag["anchor_mm"] == pytest.approx(list(AFFINE[:3, :3] @ anchor + AFFINE[:3, 3]))
    # the cube's peak is one corner voxel (0.9, the rest 0.45): the anchor is its neighbour inside, not the corner
    assert cube_flag["anchor_voxel"] == [3, 3, 3] and cube_flag["centroid_voxel"] == [4, 4, 4]
    assert cube_flag["anchor_mm"] == pytest.approx([-7.0, 23.0, 11.0])


def test_a_flag_whose_core_was_rebuilt_well_is_anchored_in_its_strong_rim():
    """A tumour's flag is often a strong rim round a core the network rebuilt almost normally: Go to flag must land
    where the anomaly is, not in the core (a reader saw the crosshair on nothing at 0.05 of a 0.95 flag)."""
    mask = np.zeros((30, 30, 30), dtype=bool)
    anomaly = np.zeros(mask.shape, dtype=np.float32)
    radius = np.sqrt(sum((axis - 15.0) ** 2 for axis in np.indices(mask.shape)))
    mask[radius <= 8] = True
    anomaly[mask] = 0.05
    rim = mask & (radius >= 5) & (np.indices(mask.shape)[0] >= 15)  # the strong part: half a shell
    anomaly[rim] = 0.9
    (flag,), _ = find_flags(mask, anomaly, AFFINE, min_volume_mm3=100.0)[1:]
    assert anomaly[tuple(flag["centroid_voxel"])] == pytest.approx(0.05)  # the centroid is in the weak core
    assert rim[tuple(flag["anchor_voxel"])]
