import numpy as np
import pytest

from itermask3d.evaluation import (average_precision, detection_metrics, fpr_at_tpr, overlap_metrics, roc_auc,
                                   surface_distance)


def test_overlap_metrics():
    a = np.zeros((10, 10, 10), bool)
    b = np.zeros_like(a)
    a[2:6, 2:6, 2:6] = True  # 64 voxels
    b[4:8, 2:6, 2:6] = True  # 64 voxels, 32 shared
    m = overlap_metrics(a, b)
    assert m["dice"] == pytest.approx(0.5)
    assert m["iou"] == pytest.approx(32 / 96)
    assert m["sensitivity"] == pytest.approx(0.5) and m["precision"] == pytest.approx(0.5)
    assert overlap_metrics(a, a)["dice"] == 1.0


def test_auroc_matches_pairwise_definition():
    rng = np.random.default_rng(0)
    scores = np.round(rng.random(60), 1)  # with ties
    labels = rng.random(60) < 0.4
    pos, neg = scores[labels], scores[~labels]
    pairwise = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert roc_auc(scores, labels) == pytest.approx(pairwise)
    assert roc_auc([0.1, 0.2, 0.9, 0.8], [0, 0, 1, 1]) == 1.0


def test_average_precision_and_fpr():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    labels = np.array([1, 0, 1, 0, 0], bool)
    assert average_precision(scores, labels) == pytest.approx(0.5 * 1.0 + 0.5 * (2 / 3))
    assert fpr_at_tpr(scores, labels, 0.5) == 0.0
    assert fpr_at_tpr(scores, labels, 1.0) == pytest.approx(1 / 3)
    d = detection_metrics([0.1, 0.2, 0.3, 0.9], [False, False, True, True])
    assert d["auroc"] == 1.0 and d["fpr_at_90_tpr"] == 0.0


def test_surface_distance():
    a = np.zeros((20, 20, 20), bool)
    a[5:15, 5:15, 5:15] = True
    assert surface_distance(a, a, (1, 1, 1)) == 0.0
    b = np.roll(a, 2, axis=0)
    assert 0.5 < surface_distance(a, b, (1, 1, 1)) < 2.0
    assert surface_distance(a, b, (2, 1, 1)) > surface_distance(a, b, (1, 1, 1))


def test_a_case_counts_lesions_found_and_flags_that_touch_no_lesion(tmp_path):
    import json

    import nibabel as nib

    from itermask3d.evaluation import evaluate_case

    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    image = np.zeros((30, 30, 30), np.float32)
    image[3:27, 3:27, 3:27] = 100.0
    truth = np.zeros(image.shape, np.uint8)
    truth[5:9, 5:9, 5:9] = 1  # lesion A: found by flag 1
    truth[20:24, 5:9, 5:9] = 1  # lesion B: missed
    labels = np.zeros(image.shape, np.uint16)
    labels[6:10, 6:10, 6:10] = 1
    labels[15:18, 20:23, 20:23] = 2  # on no lesion
    nib.save(nib.Nifti1Image(image, affine), tmp_path / "lesion_small_00.nii.gz")
    nib.save(nib.Nifti1Image(truth, affine), tmp_path / "lesion_small_00_truth.nii.gz")
    out = tmp_path / "result"
    out.mkdir()
    nib.save(nib.Nifti1Image(labels, affine), out / "anomaly_mask.nii.gz")
    nib.save(nib.Nifti1Image((labels > 0).astype(np.float32), affine), out / "anomaly_map.nii.gz")
    flags = [{"label": 1}, {"label": 2}]
    (out / "result.json").write_text(json.dumps({"score": 0.01, "mean_error": 0.02, "threshold": 0.05,
                                                 "flags": flags, "seconds": 1.0, "passes": 3, "quality": []}))
    entry = evaluate_case(tmp_path / "lesion_small_00.nii.gz", out)
    assert entry["lesions"] == 2 and entry["lesion_hit_rate"] == 0.5 and entry["stray_flags"] == 1
    assert entry["dice"] == pytest.approx(2 * 27 / (128 + 64 + 27))
