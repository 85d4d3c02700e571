import numpy as np
import pytest

from itermask3d.highfreq import high_frequency, low_frequency_region
from itermask3d.profiles import PROFILES


@pytest.fixture()
def volume():
    rng = np.random.default_rng(0)
    from scipy import ndimage

    return ndimage.gaussian_filter(rng.random((32, 32, 32)), 1.5).astype(np.float32) * 3


def _spectrum(a):
    return np.fft.fftshift(np.fft.fftn(a.astype(np.float64)))


def test_magnitude_one_inside_sphere_and_phase_kept(volume):
    radius = 5.0
    h = high_frequency(volume, radius)
    fx, fh = _spectrum(volume), _spectrum(h)
    inside = low_frequency_region(volume.shape, radius)
    assert inside.sum() > 400  # a real sphere of about 4/3 pi 5^3 indices
    np.testing.assert_allclose(np.abs(fh[inside]), 1.0, atol=1e-4)
    strong = inside & (np.abs(fx) > 1e-3)
    phase_diff = np.angle(fh[strong] * np.conj(fx[strong]))
    np.testing.assert_allclose(phase_diff, 0.0, atol=1e-3)


def test_spectrum_unchanged_outside_sphere(volume):
    radius = 5.0
    h = high_frequency(volume, radius)
    outside = ~low_frequency_region(volume.shape, radius)
    np.testing.assert_allclose(_spectrum(h)[outside], _spectrum(volume)[outside], atol=1e-3)


def test_sphere_is_centred_on_the_shifted_zero_frequency():
    region = low_frequency_region((16, 16, 16), 2.0)
    assert region[8, 8, 8] and region[10, 8, 8] and not region[11, 8, 8] and not region[0, 0, 0]
    assert region.sum() == np.sum(np.sum((np.indices((16, 16, 16)) - 8) ** 2, axis=0) <= 4)


def test_radius_keeps_the_physical_band_on_every_profile():
    for profile in PROFILES.values():
        expected = 15.0 * profile.fov_mm / 192.0
        np.testing.assert_allclose(profile.hf_radius, expected)
    assert np.allclose(PROFILES["paper"].hf_radius, 15.0)


def test_intensity_offset_does_not_pass_through_h(volume):
    # The low-frequency content (e.g. a lesion's mean intensity) is removed: adding a constant
    # changes only the DC coefficient, whose magnitude is forced to 1.
    h1 = high_frequency(volume, 4.0)
    h2 = high_frequency(volume + 5.0, 4.0)
    np.testing.assert_allclose(h1, h2, atol=1e-5)
