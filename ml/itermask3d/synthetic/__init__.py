"""Synthetic brains: normal anatomy, lesions with ground truth, acquisition artefacts."""
from .anatomy import SubjectGeometry, tissue_contrast  # noqa: F401
from .cases import CASE_KINDS, SyntheticCase, grid_training_volume, make_case  # noqa: F401
