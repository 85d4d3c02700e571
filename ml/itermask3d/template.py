"""The MNI152 2009c symmetric template shipped inside the installed nilearn wheel.

Files are located on disk next to nilearn's package (never fetched): T1 (skull-stripped,
0..255), grey- and white-matter probability maps (0..255), all 197x233x189 at 1 mm.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

_FILE = "mni_icbm152_{}_tal_nlin_sym_09a_converted.nii.gz"


def template_dir() -> Path:
    """Folder of nilearn's bundled data files."""
    import importlib.util

    spec = importlib.util.find_spec("nilearn")
    if spec is None or spec.origin is None:
        raise RuntimeError("nilearn is not installed; the MNI152 template comes from its wheel")
    return Path(spec.origin).parent / "datasets" / "data"


@dataclass(frozen=True)
class Template:
    """Template volumes on the 1 mm template grid (float32, shape (197, 233, 189)).

    t1: T1 intensity scaled to 0..1; gm, wm, csf: tissue probabilities 0..1;
    brain: brain mask (bool); affine: 4x4 voxel -> MNI mm.
    """

    t1: np.ndarray
    gm: np.ndarray
    wm: np.ndarray
    csf: np.ndarray
    brain: np.ndarray
    affine: np.ndarray


@functools.lru_cache(maxsize=1)
def load_template() -> Template:
    """Load and cache the template (about 0.5 s the first time)."""
    folder = template_dir()
    imgs = {}
    for name in ("t1", "gm", "wm"):
        path = folder / _FILE.format(name)
        if not path.exists():
            raise RuntimeError(f"MNI152 template file missing from nilearn: {path}")
        imgs[name] = nib.load(str(path))
    t1 = np.asarray(imgs["t1"].dataobj, dtype=np.float32) / 255.0
    gm = np.asarray(imgs["gm"].dataobj, dtype=np.float32) / 255.0
    wm = np.asarray(imgs["wm"].dataobj, dtype=np.float32) / 255.0
    brain = t1 > 0
    from scipy import ndimage

    brain = ndimage.binary_fill_holes(ndimage.binary_opening(brain, iterations=1))
    csf = np.clip(brain.astype(np.float32) - gm - wm, 0.0, 1.0)
    return Template(t1=t1, gm=gm, wm=wm, csf=csf, brain=brain, affine=imgs["t1"].affine.copy())
