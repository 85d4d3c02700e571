"""Signal checks that call for a rescan: heavy noise, a k-space spike, zipper planes, ghosting, motion, strong
bias field.

The network is guided by the scan's high-frequency channel, which carries noise, stripes and zipper
lines as faithfully as anatomy, so it reconstructs them and they do not stay masked (ml/BENCHMARK.md:
noise, spike and zipper scans score like normals). These measures look for them directly, on the
scan's own voxel grid (the bias field on the aligned profile grid), each against a limit set above every
synthetic normal and lesion scan measured (ml/ACQUISITION-CHECKS.md lists their largest values). The
ghosting limit sits about 1.4x above the largest of 42 other synthetic normal and lesion scans, whose
ghosting scans guided the measure's design, the motion limit 1.45x above the largest of 70 others, and
the bias limit just above the largest of 122 normal scans (0.184, one whose own mild field the generator
drew at 0.183; ml/README.md, "Bias field"):

- noise: robust noise sigma (median absolute in-plane Laplacian, scaled for Gaussian noise) over the
  brain's 95th-percentile intensity; normals about 0.02-0.04.
- spike: the most prominent k-space peak away from the centre, log |F| over the mean log |F| of its
  7^3 neighbourhood; a spike is one bright k-space point, i.e. stripes across the whole image.
- zipper: the plane (along any voxel axis) whose mean absolute Laplacian is largest, over the median
  plane's; a zipper line is a plane of alternating bright and dark voxels.
- ghosting: a faint copy of the image shifted along one voxel (phase-encoding) axis. The anatomy's
  edges (band-pass 1-4 mm: thermal noise is not ghosted in a real scan) correlate with themselves at
  the ghost's lag; the measure is the sharpest such peak beyond 15 mm, its height over the correlation
  8 mm to either side (anatomy's own correlation changes slowly with the lag), weighted by the square
  root of the fraction of brain that overlaps at that lag (fewer voxel pairs, noisier correlation).
- bias: the spread of a smooth multiplicative field fitted to the white matter's log intensity
  (bias_estimate.bias_field_spread); it needs the scan's alignment to the template, so the caller passes it.
- motion: k-space lines acquired after the head moved hold a rotated spectrum, so the energy of
  k-space planes jumps from one plane to the next along the phase-encoding axis, where a scan taken in
  one position changes smoothly (line_energy_jitter).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft, ndimage

from .bias_estimate import bias_field_spread
from .io import Scan
from .preprocessing import PreparedScan
from .quality import QualityIssue, axis_direction, check_acquisition

NOISE_LIMIT = 0.06
SPIKE_LIMIT = 2.3
ZIPPER_LIMIT = 8.0
BIAS_LIMIT = 0.2
GHOST_LIMIT = 0.075
GHOST_BAND_MM = (1.0, 4.0)
GHOST_MIN_LAG_MM = 15.0
GHOST_SIDE_MM = 8.0
# Lags at which less of the brain overlaps its shifted self than this give too few voxel pairs.
GHOST_MIN_OVERLAP = 0.05
# k-space indices closer to the centre than this (fraction of each axis) hold the anatomy's own peak.
SPIKE_CENTRE_RADIUS = 0.06
# Natural log units: 0.05 is a median jump of about 5 % in plane energy.
MOTION_LIMIT = 0.05
MOTION_MIN_PLANES = 64
# Planes this close to the centre of k-space (fraction of the axis) are left out of the motion measure.
MOTION_CENTRE = 1 / 16


@dataclass(frozen=True)
class SignalMeasures:
    """noise_fraction: noise sigma / brain p95; spike_prominence: log ratio (natural log);
    zipper_ratio, zipper_axis, zipper_plane: the most deviant plane; ghost_prominence (dimensionless),
    ghost_axis, ghost_lag (voxels): the sharpest self-correlation peak; bias_spread: natural log units, None
    when not measured;
    motion_jitter (natural log units), motion_axis: the k-space plane energy jitter and its axis."""

    noise_fraction: float
    spike_prominence: float
    zipper_ratio: float
    zipper_axis: int
    zipper_plane: int
    ghost_prominence: float
    ghost_axis: int
    ghost_lag: int
    bias_spread: float | None
    motion_jitter: float
    motion_axis: int


def _neighbour_difference(data: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """data minus the mean of its two neighbours along each of ``axes``."""
    neighbours = sum(np.roll(data, shift, axis) for axis in axes for shift in (1, -1))
    return data - neighbours / (2 * len(axes))


def noise_fraction(data: np.ndarray, inner: np.ndarray, spacing: np.ndarray, p95: float) -> float:
    """Noise sigma over p95, from the in-plane Laplacian of the two finest axes (thick slices would
    mix anatomy into a through-plane difference). For i.i.d. Gaussian noise of sigma s the difference
    has standard deviation s * sqrt(1 + 1/4); the median absolute value of a normal is 0.6745 sd."""
    fine = tuple(int(a) for a in np.argsort(spacing, kind="stable")[:2])
    values = np.abs(_neighbour_difference(data, fine)[inner])
    return float(np.median(values) / 0.6745 / np.sqrt(1.25) / p95)


def magnitude_spectrum(image: np.ndarray) -> np.ndarray:
    """|F| of ``image``, centred (fftshift), float32 of the image's shape."""
    # float32 in, complex64 out: half the memory of numpy's complex128 on a 0.5 mm scan.
    return np.abs(fft.fftshift(fft.fftn(np.asarray(image, dtype=np.float32))))


def spike_prominence(spectrum: np.ndarray) -> float:
    """Largest log |F| above its neighbourhood's mean, outside the centre of k-space (``spectrum``
    from magnitude_spectrum)."""
    log_spectrum = np.log(spectrum + 1e-6 * float(spectrum.max()))
    prominence = log_spectrum - ndimage.uniform_filter(log_spectrum, size=7, mode="wrap")
    grids = np.ogrid[tuple(slice(0, n) for n in spectrum.shape)]
    radius2 = sum(((g - n / 2) / n) ** 2 for g, n in zip(grids, spectrum.shape))
    return float(prominence[radius2 > SPIKE_CENTRE_RADIUS ** 2].max())


def line_energy_jitter(spectrum: np.ndarray) -> tuple[float, int]:
    """(jitter, axis): how much the energy of k-space planes jumps from one plane to the next along the
    voxel axis where it jumps most. ``spectrum`` from magnitude_spectrum.

    Per axis, the energy of each plane of k-space across that axis (one plane per phase-encoding line
    when the axis is the phase-encoding one) is a smooth function of its position for a scan acquired in
    one head position. Lines acquired after the head moved hold a rotated spectrum, so their energy jumps
    against their neighbours'. The jitter is the median, over the planes outside the centre
    (MOTION_CENTRE), of |log E(k) - (log E(k-1) + log E(k+1)) / 2|. Axes with fewer than
    MOTION_MIN_PLANES planes are skipped (thick 2D slices: few planes make the spectrum's own curvature
    look like jitter, and a 2D acquisition phase-encodes within the slice)."""
    best = (0.0, 0)
    for axis in range(3):
        n = spectrum.shape[axis]
        if n < MOTION_MIN_PLANES:
            continue
        other = tuple(a for a in range(3) if a != axis)
        energy = np.sum(np.square(spectrum, dtype=np.float64), axis=other)
        log_energy = np.log(np.maximum(energy, 1e-30 * float(energy.max())))
        jitter = np.abs(log_energy[1:-1] - (log_energy[:-2] + log_energy[2:]) / 2)
        # The shifted spectrum's centre is at n // 2; jitter[i] belongs to plane i + 1.
        outer = np.abs(np.arange(1, n - 1) - n // 2) > MOTION_CENTRE * n
        value = float(np.median(jitter[outer]))
        if value > best[0]:
            best = (value, axis)
    return best


def deviant_plane(data: np.ndarray, inner: np.ndarray) -> tuple[float, int, int]:
    """(ratio, axis, plane): the plane whose mean |Laplacian| inside the brain is largest relative
    to the median plane of its axis; planes with little brain (< 20 % of the largest) are skipped."""
    laplacian = np.where(inner, np.abs(_neighbour_difference(data, (0, 1, 2))), 0.0)
    best = (0.0, 0, 0)
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        counts = inner.sum(axis=other)
        used = counts >= 0.2 * max(int(counts.max()), 1)
        if used.sum() < 5:
            continue
        per_plane = laplacian.sum(axis=other)[used] / counts[used]
        ratio = per_plane / max(float(np.median(per_plane)), 1e-12)
        k = int(np.argmax(ratio))
        if ratio[k] > best[0]:
            best = (float(ratio[k]), axis, int(np.flatnonzero(used)[k]))
    return best


def lag_correlation(values: np.ndarray, inside: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """For every lag d along ``axis`` (circular, as a ghost wraps around the field of view): the
    correlation of ``values`` with itself shifted by d over the voxel pairs that are both ``inside``,
    and the number of such pairs over the number at lag 0. Two (n,) arrays, n = values.shape[axis]."""
    n = values.shape[axis]
    other = tuple(a for a in range(3) if a != axis)
    a = np.where(inside, values, 0.0).astype(np.float32)
    m = inside.astype(np.float32)
    fa, fa2, fm = (fft.rfft(v, axis=axis) for v in (a, a * a, m))

    def summed(spectrum: np.ndarray) -> np.ndarray:
        # Summing the spectra of every line before the inverse transform sums their correlations.
        return fft.irfft(spectrum.sum(axis=other), n=n)

    products = summed(np.abs(fa) ** 2)
    energy_here = summed(np.conj(fa2) * fm)
    energy_there = summed(np.conj(fm) * fa2)
    pairs = summed(np.abs(fm) ** 2)
    correlation = products / np.sqrt(np.maximum(energy_here * energy_there, 1e-30))
    return correlation, pairs / max(float(pairs[0]), 1.0)


def ghost_prominence(data: np.ndarray, inner: np.ndarray, spacing: np.ndarray) -> tuple[float, int, int]:
    """(prominence, axis, lag in voxels) of the sharpest self-correlation peak of the band-passed image
    along any voxel axis; (0.0, 0, 0) when no lag qualifies (a tiny field of view)."""
    low, high = GHOST_BAND_MM
    band = (ndimage.gaussian_filter(data, [low / s for s in spacing])
            - ndimage.gaussian_filter(data, [high / s for s in spacing]))
    best = (0.0, 0, 0)
    for axis in range(3):
        n = data.shape[axis]
        correlation, overlap = lag_correlation(band, inner, axis)
        usable = np.where(overlap >= GHOST_MIN_OVERLAP, correlation, -np.inf)
        lags = np.arange(n // 2 + 1)
        side = max(1, int(round(GHOST_SIDE_MM / spacing[axis])))
        beside = np.maximum(usable[(lags - side) % n], usable[(lags + side) % n])
        candidate = np.isfinite(usable[lags]) & np.isfinite(beside) & (lags * spacing[axis] >= GHOST_MIN_LAG_MM)
        if not candidate.any():
            continue
        peak = np.full(lags.size, -np.inf)
        chosen = lags[candidate]
        peak[candidate] = (usable[chosen] - beside[candidate]) * np.sqrt(np.maximum(overlap[chosen], 0.0))
        k = int(np.argmax(peak))
        if peak[k] > best[0]:
            best = (float(peak[k]), axis, k)
    return best


def measure_signal(scan: Scan, bias_spread: float | None = None) -> SignalMeasures:
    """Every measure of this module for one scan (its own grid); ``bias_spread`` is measured on the aligned
    scan (bias_estimate.bias_field_spread) and only carried here, None when not measured."""
    data = np.asarray(scan.data, dtype=np.float32)
    foreground = scan.foreground
    inner = ndimage.binary_erosion(foreground, iterations=2)
    if inner.sum() < 100:
        inner = foreground
    spacing = np.asarray(scan.spacing_mm, dtype=float)
    p95 = max(float(np.percentile(data[foreground], 95)), 1e-12)
    ratio, axis, plane = deviant_plane(data, inner)
    ghost, ghost_axis, ghost_lag = ghost_prominence(data, inner, spacing)
    spectrum = magnitude_spectrum(np.where(foreground, data / p95, 0.0))
    jitter, motion_axis = line_energy_jitter(spectrum)
    return SignalMeasures(
        noise_fraction=noise_fraction(data, inner, spacing, p95),
        spike_prominence=spike_prominence(spectrum),
        zipper_ratio=ratio, zipper_axis=axis, zipper_plane=plane,
        ghost_prominence=ghost, ghost_axis=ghost_axis, ghost_lag=ghost_lag,
        bias_spread=bias_spread,
        motion_jitter=jitter, motion_axis=motion_axis)


def _whole_image(kind: str, message: str) -> QualityIssue:
    """An issue of the whole image: no axis, planes or thickness to point at."""
    return QualityIssue(kind, None, None, None, message)


def check_signal(scan: Scan, bias_spread: float | None = None) -> list[QualityIssue]:
    """The signal problems found in ``scan``, each with a sentence for the reader; [] when none.
    bias_spread: see measure_signal; with None the bias field is not judged."""
    m = measure_signal(scan, bias_spread)
    issues = []
    if m.noise_fraction > NOISE_LIMIT:
        issues.append(_whole_image("noise", (
            f"Heavy image noise (about {m.noise_fraction:.0%} of the bright tissue's intensity; normal scans "
            f"stay under {NOISE_LIMIT:.0%}); small findings may be hidden, rescan recommended.")))
    if m.spike_prominence > SPIKE_LIMIT:
        issues.append(_whole_image("spike", (
            f"A stripe pattern crosses the image (a k-space spike {np.exp(m.spike_prominence):.0f} times its "
            "neighbourhood); rescan recommended.")))
    if m.zipper_ratio > ZIPPER_LIMIT:
        direction = axis_direction(scan.affine, m.zipper_axis)
        spacing = float(scan.spacing_mm[m.zipper_axis])
        issues.append(QualityIssue(
            "zipper", m.zipper_axis, (m.zipper_plane, m.zipper_plane), round(spacing, 1),
            f"Zipper line: plane {m.zipper_plane} of the {direction} axis alternates bright and dark "
            f"({m.zipper_ratio:.0f} times the variation of a typical plane); rescan recommended."))
    if m.ghost_prominence > GHOST_LIMIT:
        direction = axis_direction(scan.affine, m.ghost_axis)
        lag_mm = float(m.ghost_lag * scan.spacing_mm[m.ghost_axis])
        issues.append(QualityIssue(
            "ghosting", m.ghost_axis, None, None,
            f"Ghosting: a faint copy of the brain repeats {lag_mm:.0f} mm away along the {direction} axis "
            "(a phase-encoding ghost, e.g. from motion or pulsation); rescan recommended."))
    # A ghost or a zipper line along an axis also makes its k-space planes jump; its own sentence says more.
    explained = {issue.axis for issue in issues if issue.kind in ("ghosting", "zipper")}
    if m.motion_jitter > MOTION_LIMIT and m.motion_axis not in explained:
        direction = axis_direction(scan.affine, m.motion_axis)
        issues.append(QualityIssue(
            "motion", m.motion_axis, None, None,
            f"Motion: k-space lines along the {direction} axis disagree with their neighbours (their energy "
            f"jumps by about {np.expm1(m.motion_jitter):.0%} from line to line; normal scans stay under "
            f"{np.expm1(MOTION_LIMIT):.0%}), as when the head moves during the scan; rescan recommended."))
    if m.bias_spread is not None and m.bias_spread > BIAS_LIMIT:
        issues.append(_whole_image("bias_field", (
            f"Strong intensity non-uniformity (bias field: white matter's intensity varies by a factor of about "
            f"{np.exp(2 * m.bias_spread):.1f} across the brain); correct it (e.g. N4) or rescan.")))
    return issues


def rescan_issues(prepared: PreparedScan) -> list[QualityIssue]:
    """Every reason to rescan the scan of ``prepared``: the acquisition checks, and on a complete scan the
    signal checks. A scan with slices missing is already sent for a rescan, and its gap's sharp edges read as
    a spike and a bias field, sentences that would only mislead the reader."""
    scan = prepared.scan
    return check_acquisition(scan) or check_signal(scan, bias_field_spread(prepared))
