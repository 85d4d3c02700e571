import numpy as np
import pytest

from itermask3d.io import validate
from itermask3d.synthetic import make_case
from itermask3d.synthetic.artefacts import ARTEFACTS


@pytest.mark.parametrize("lesion_type", ["tumour", "cavity", "small"])
def test_lesions_have_ground_truth_inside_the_brain(lesion_type):
    normal = make_case("normal", "flair", seed=3, spacing_mm=(3, 3, 3))
    case = make_case("lesion", "flair", seed=3, spacing_mm=(3, 3, 3), lesion_type=lesion_type)
    truth = np.asarray(case.truth.dataobj) > 0
    image = np.asarray(case.image.dataobj)
    assert truth.sum() > 0 and np.all(image[truth] > 0)
    changed = np.abs(image - np.asarray(normal.image.dataobj) * 0) > 0  # scan is non-empty there
    assert changed[truth].all()
    validate(case.image)  # a valid, skull-stripped scan


def test_flair_tumour_is_hyperintense_and_t1_cavity_hypointense():
    tumour = make_case("lesion", "flair", seed=4, spacing_mm=(2, 2, 2), lesion_type="tumour", lesion_size_mm=12)
    image, truth = np.asarray(tumour.image.dataobj), np.asarray(tumour.truth.dataobj) > 0
    brain = image > 0
    assert np.median(image[truth]) > np.median(image[brain & ~truth]) * 1.2
    cavity = make_case("lesion", "t1", seed=4, spacing_mm=(2, 2, 2), lesion_type="cavity", lesion_size_mm=10)
    image, truth = np.asarray(cavity.image.dataobj), np.asarray(cavity.truth.dataobj) > 0
    assert np.median(image[truth]) < np.median(image[(image > 0) & ~truth]) * 0.6


@pytest.mark.parametrize("artefact", ARTEFACTS)
def test_every_artefact_changes_the_scan(artefact):
    normal = make_case("normal", "t1", seed=9, spacing_mm=(3, 3, 3), intensity_scale=1000.0)
    case = make_case("artefact", "t1", seed=9, spacing_mm=(3, 3, 3), artefact_type=artefact, intensity_scale=1000.0)
    a, b = np.asarray(normal.image.dataobj), np.asarray(case.image.dataobj)
    assert case.info["artefact_type"] == artefact
    assert np.mean(np.abs(a - b)[a > 0]) > 5.0  # > 0.5 % of the intensity scale on average
    assert np.all(b[a == 0] == 0)  # still skull-stripped


def test_same_seed_same_case():
    a = make_case("lesion", "t2", seed=21, spacing_mm=(3, 3, 3))
    b = make_case("lesion", "t2", seed=21, spacing_mm=(3, 3, 3))
    np.testing.assert_array_equal(np.asarray(a.image.dataobj), np.asarray(b.image.dataobj))
