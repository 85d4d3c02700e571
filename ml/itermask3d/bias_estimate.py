"""How strong a scan's bias field is: a smooth multiplicative field fitted to its white matter.

Why white matter: a normal brain's white matter has one intensity wherever it is, so any slow change of
its log intensity across the brain is the field. Smoothing the whole brain's log intensity instead (the
check before this one) also measures where cortex, ventricles and white matter happen to lie, and on
synthetic scans it read normal scans as high as strong bias-field scans (ml/README.md, "Bias field").

The white matter comes from the MNI152 template's map, on the profile grid that the scan is already aligned
to (``preprocessing.prepare_scan``), so no tissue has to be classified from the intensities the field
distorts. The field is a quadratic polynomial in the grid coordinates of log intensity, fitted by least
squares with Tukey's biweight, so a lesion or a misaligned patch of grey matter (outliers against the
smooth field) loses its weight instead of bending the fit. The measure is the fitted field's standard
deviation over the brain in natural log units: a field that varies by a factor f across the brain
measures about log(f) / 2.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from .contrast import tissue_on_grid
from .preprocessing import PreparedScan

# Template white-matter probability above which a grid voxel counts as white matter.
WHITE_MATTER_PROBABILITY = 0.9
# Quadratic: a scanner's receive-coil field varies over the head's size, as a low-order surface.
FIELD_DEGREE = 2
# Tukey's biweight constant (95 % efficiency for Gaussian residuals), in units of the residuals' robust sigma.
TUKEY_C = 4.685
FIT_ITERATIONS = 6
# A fit on fewer white-matter voxels than this says nothing about the brain's field.
MIN_WHITE_MATTER_VOXELS = 500


def polynomial_terms(points: np.ndarray, degree: int) -> np.ndarray:
    """Monomials of the coordinates up to ``degree``: points (N, 3) -> design (N, T), constant term first.

    Coordinates are centred and scaled to unit spread first, so the columns have comparable size.
    """
    centred = (points - points.mean(axis=0)) / np.maximum(points.std(axis=0), 1e-9)
    columns = [np.ones(len(points))]
    for total in range(1, degree + 1):
        for i in range(total + 1):
            for j in range(total + 1 - i):
                k = total - i - j
                columns.append(centred[:, 0] ** i * centred[:, 1] ** j * centred[:, 2] ** k)
    return np.stack(columns, axis=1)


def robust_fit(design: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Coefficients (T,) of ``design`` (N, T) fitted to ``values`` (N,) by iteratively reweighted least
    squares with Tukey's biweight; residuals beyond TUKEY_C robust sigmas get no weight."""
    weights = np.ones_like(values)
    coefficients = np.zeros(design.shape[1])
    for _ in range(FIT_ITERATIONS):
        root = np.sqrt(weights)
        coefficients = np.linalg.lstsq(design * root[:, None], values * root, rcond=None)[0]
        residuals = values - design @ coefficients
        sigma = 1.4826 * float(np.median(np.abs(residuals)))
        if sigma <= 0:
            break
        u = residuals / (TUKEY_C * sigma)
        weights = np.where(np.abs(u) < 1.0, (1.0 - u * u) ** 2, 0.0)
    return coefficients


def bias_field_spread(prepared: PreparedScan) -> float | None:
    """Standard deviation over the brain (natural log units) of the quadratic field fitted to the log
    intensity of the scan's white matter on the profile grid; None when too little white matter lies
    inside the brain to fit it (a scan covering a small part of the brain)."""
    intensity = prepared.denormalise(prepared.x)
    brain = ndimage.binary_erosion(prepared.brain, iterations=1)
    white = brain & (tissue_on_grid(prepared.profile, "wm") > WHITE_MATTER_PROBABILITY) & (intensity > 0)
    if white.sum() < MIN_WHITE_MATTER_VOXELS:
        return None
    # White matter lies inside the brain, so one design over the brain serves the fit and the measure.
    design = polynomial_terms(np.argwhere(brain).astype(np.float64), FIELD_DEGREE)
    coefficients = robust_fit(design[white[brain]], np.log(intensity[white]))
    return float(np.std(design @ coefficients))
