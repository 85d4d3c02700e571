"""Shared fixtures for the itermask3d tests: small synthetic scans on coarse grids."""
from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest


@pytest.fixture(scope="session")
def small_lesion_case(tmp_path_factory):
    """A 3 mm synthetic T1 scan with a tumour, written to disk: (scan path, truth path, case)."""
    from itermask3d.synthetic import make_case

    folder = tmp_path_factory.mktemp("cases")
    case = make_case("lesion", "t1", seed=11, spacing_mm=(3.0, 3.0, 3.0), lesion_type="tumour", lesion_size_mm=14)
    scan, truth = folder / "lesion.nii.gz", folder / "lesion_truth.nii.gz"
    nib.save(case.image, str(scan))
    nib.save(case.truth, str(truth))
    return scan, truth, case


@pytest.fixture(scope="session")
def brain_ball():
    """(40, 44, 36) bool ellipsoid 'brain' used by the algorithm tests."""
    grid = np.indices((40, 44, 36)).astype(float)
    centre = np.array([20, 22, 18]).reshape(3, 1, 1, 1)
    radii = np.array([16, 18, 14]).reshape(3, 1, 1, 1)
    return np.sum(((grid - centre) / radii) ** 2, axis=0) <= 1.0


@pytest.fixture(scope="session")
def load_script():
    """``load_script("name")``: scripts/name.py imported as a module, so a test calls its functions."""
    import importlib.util
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "scripts"

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
