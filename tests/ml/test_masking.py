import numpy as np

from itermask3d.masking import (EIGEN_RANGE, draw_grid_factor, noise_fill, random_covariance,
                                random_training_mask)
from itermask3d.profiles import PROFILES


def _brain(shape=(80, 96, 80), radii=(33, 40, 34)):
    grid = np.indices(shape).astype(float)
    centre = (np.array(shape) / 2).reshape(3, 1, 1, 1)
    return np.sum(((grid - centre) / np.array(radii).reshape(3, 1, 1, 1)) ** 2, axis=0) <= 1.0


def test_masks_stay_inside_the_brain_with_paper_like_size_statistics():
    brain = _brain()  # a fast-profile-sized brain (2 mm voxels), factors scaled to (2, 1, 4)
    rng = np.random.default_rng(1)
    sizes = []
    for _ in range(80):
        mask = random_training_mask(brain, rng, PROFILES["fast"].mask_grid_factors)
        assert mask.shape == brain.shape and mask.dtype == bool
        assert not np.any(mask & ~brain)
        sizes.append(mask.sum() / brain.sum())
    sizes = np.array(sizes)
    assert np.mean(sizes > 0) > 0.95
    # From small blobs (< 2 % of the brain) to large parts of it; typically a few percent.
    assert np.percentile(sizes, 10) < 0.02 and sizes.max() > 0.3
    assert 0.02 < np.median(sizes) < 0.25


def test_masks_are_compact_blobs():
    brain = _brain()
    rng = np.random.default_rng(5)
    from scipy import ndimage

    for _ in range(20):
        mask = random_training_mask(brain, rng, (2, 1, 4))
        if mask.sum() < 50:
            continue
        labels, count = ndimage.label(mask)
        largest = np.bincount(labels.ravel())[1:].max()
        assert largest / mask.sum() > 0.9  # one Gaussian cloud, not scattered voxels


def test_mask_is_made_of_grid_blocks():
    full_brain = np.ones((32, 32, 32), dtype=bool)
    rng = np.random.default_rng(2)
    for factors in [(4, 4, 4), (8, 8, 8), (2, 2, 2)]:
        mask = random_training_mask(full_brain, rng, factors)
        s = factors[0]
        blocks = mask.reshape(32 // s, s, 32 // s, s, 32 // s, s)
        assert np.all(blocks.all(axis=(1, 3, 5)) == blocks.any(axis=(1, 3, 5)))


def test_grid_factor_probabilities():
    rng = np.random.default_rng(3)
    draws = np.array([draw_grid_factor(rng) for _ in range(4000)])
    assert abs(np.mean(draws == 4) - 0.5) < 0.03
    assert abs(np.mean(draws == 2) - 0.25) < 0.03
    assert abs(np.mean(draws == 8) - 0.25) < 0.03


def test_covariance_is_rotated_diagonal_with_bounded_eigenvalues():
    rng = np.random.default_rng(4)
    for _ in range(50):
        c = random_covariance(rng)
        np.testing.assert_allclose(c, c.T, atol=1e-12)
        eigen = np.linalg.eigvalsh(c)
        assert eigen.min() >= EIGEN_RANGE[0] - 1e-9 and eigen.max() <= EIGEN_RANGE[1] + 1e-9


def test_mask_grid_factors_keep_physical_size():
    assert PROFILES["paper"].mask_grid_factors == (4, 2, 8)
    assert PROFILES["fast"].mask_grid_factors == (2, 1, 4)


def test_noise_fill_replaces_only_masked_voxels():
    x = np.full((4, 4, 4), 0.5, dtype=np.float32)
    mask = np.zeros_like(x, dtype=bool)
    mask[1, 1, 1] = True
    noise = np.full_like(x, -3.0)
    out = noise_fill(x, mask, noise)
    assert out[1, 1, 1] == -3.0 and np.all(out[~mask] == 0.5)
