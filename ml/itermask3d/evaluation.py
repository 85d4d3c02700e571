"""Metrics as the paper reports them.

Segmentation (per case, on the scan grid): Dice, sensitivity, precision, IoU, voxel-level
AUROC/AUPRC of the anomaly map, average symmetric surface distance (mm).
Detection (per scan): AUROC, AUPRC, false-positive rate at 80 % and 90 % true-positive rate.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import ndimage


def overlap_metrics(prediction: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Dice, sensitivity, precision, IoU for two (I, J, K) bool masks (nan where undefined)."""
    prediction, truth = np.asarray(prediction, bool), np.asarray(truth, bool)
    tp = float(np.sum(prediction & truth))
    fp = float(np.sum(prediction & ~truth))
    fn = float(np.sum(~prediction & truth))
    nan = float("nan")
    return {
        "dice": 2 * tp / (2 * tp + fp + fn) if (tp + fp + fn) > 0 else nan,
        "sensitivity": tp / (tp + fn) if (tp + fn) > 0 else nan,
        "precision": tp / (tp + fp) if (tp + fp) > 0 else nan,
        "iou": tp / (tp + fp + fn) if (tp + fp + fn) > 0 else nan,
    }


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (rank formulation, ties averaged); nan if one class is absent."""
    scores, labels = np.asarray(scores, float).ravel(), np.asarray(labels, bool).ravel()
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=float)
    sorted_values = values[order]
    boundaries = np.flatnonzero(np.diff(sorted_values)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(values)]])
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + e + 1) / 2.0  # ranks are 1-based
    return ranks


def _curve(scores: np.ndarray, labels: np.ndarray):
    """Cumulative TP/FP counts at each distinct threshold, highest score first."""
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    distinct = np.flatnonzero(np.diff(scores)) if len(scores) > 1 else np.array([], int)
    cut = np.concatenate([distinct, [len(scores) - 1]])
    tp = np.cumsum(labels)[cut].astype(float)
    fp = (cut + 1 - tp).astype(float)
    return tp, fp


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """AUPRC as average precision (step-wise); nan without positives."""
    scores, labels = np.asarray(scores, float).ravel(), np.asarray(labels, bool).ravel()
    n_pos = int(labels.sum())
    if n_pos == 0:
        return float("nan")
    tp, fp = _curve(scores, labels)
    precision = tp / (tp + fp)
    recall = tp / n_pos
    recall_steps = np.diff(np.concatenate([[0.0], recall]))
    return float(np.sum(recall_steps * precision))


def fpr_at_tpr(scores: np.ndarray, labels: np.ndarray, tpr_target: float) -> float:
    """Smallest false-positive rate at which the true-positive rate reaches ``tpr_target``."""
    scores, labels = np.asarray(scores, float).ravel(), np.asarray(labels, bool).ravel()
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    tp, fp = _curve(scores, labels)
    reached = np.flatnonzero(tp / n_pos >= tpr_target - 1e-12)
    return float(fp[reached[0]] / n_neg)


def surface_distance(prediction: np.ndarray, truth: np.ndarray, spacing_mm) -> float:
    """Average symmetric surface distance (mm) between two masks; nan if either is empty."""
    prediction, truth = np.asarray(prediction, bool), np.asarray(truth, bool)
    if not prediction.any() or not truth.any():
        return float("nan")

    def surface(mask):
        return mask & ~ndimage.binary_erosion(mask, border_value=0)

    sp, st = surface(prediction), surface(truth)
    to_truth = ndimage.distance_transform_edt(~st, sampling=spacing_mm)
    to_prediction = ndimage.distance_transform_edt(~sp, sampling=spacing_mm)
    distances = np.concatenate([to_truth[sp], to_prediction[st]])
    return float(distances.mean())


def segmentation_metrics(prediction: np.ndarray, anomaly: np.ndarray, truth: np.ndarray,
                         brain: np.ndarray, spacing_mm) -> dict[str, float]:
    """All voxel-level metrics of one case; AUROC/AUPRC over brain voxels only."""
    out = overlap_metrics(prediction, truth)
    out["voxel_auroc"] = roc_auc(anomaly[brain], truth[brain])
    out["voxel_auprc"] = average_precision(anomaly[brain], truth[brain])
    out["assd_mm"] = surface_distance(prediction, truth, spacing_mm)
    return out


def detection_metrics(scores, labels) -> dict[str, float]:
    """Scan-level AUROC, AUPRC, FPR at 80 % and 90 % TPR (labels: True = anomalous)."""
    scores, labels = np.asarray(scores, float), np.asarray(labels, bool)
    return {"auroc": roc_auc(scores, labels), "auprc": average_precision(scores, labels),
            "fpr_at_80_tpr": fpr_at_tpr(scores, labels, 0.8), "fpr_at_90_tpr": fpr_at_tpr(scores, labels, 0.9)}


def evaluate_case(case_path: Path, result_dir: Path) -> dict:
    """Metrics of one analysed case (``result_dir`` holds the files written by analyse)."""
    import nibabel as nib

    from .io import foreground_mask

    result = json.loads((result_dir / "result.json").read_text())
    entry = {"case": case_path.name, "score": result["score"], "mean_error": result["mean_error"],
             "threshold": result["threshold"], "initial_mean_error": result.get("initial_mean_error", float("nan")),
             "flags": len(result["flags"]), "seconds": result["seconds"], "passes": result["passes"],
             "rescan": bool(result.get("quality"))}
    # The product's worklist order: a rescan recommendation ranks above any score (score <= 1).
    entry["score_with_checks"] = entry["score"] + (1.0 if entry["rescan"] else 0.0)
    truth_path = case_path.with_name(case_path.name.replace(".nii.gz", "_truth.nii.gz"))
    if truth_path.exists():
        image = nib.load(str(case_path))
        truth = np.asarray(nib.load(str(truth_path)).dataobj) > 0
        labels = np.asarray(nib.load(str(result_dir / "anomaly_mask.nii.gz")).dataobj)
        anomaly = np.asarray(nib.load(str(result_dir / "anomaly_map.nii.gz")).dataobj, dtype=np.float32)
        brain = foreground_mask(np.asarray(image.dataobj, dtype=np.float32))
        spacing = np.linalg.norm(image.affine[:3, :3], axis=0)
        entry.update(segmentation_metrics(labels > 0, anomaly, truth, brain, spacing))
        truth_components, count = ndimage.label(truth, structure=np.ones((3, 3, 3)))
        hit = [bool(np.any(labels[truth_components == c] > 0)) for c in range(1, count + 1)]
        entry["lesions"] = count
        entry["lesion_hit_rate"] = float(np.mean(hit)) if hit else float("nan")
        # each flag that touches no lesion is a false lead a reviewer has to reject
        entry["stray_flags"] = sum(1 for flag in result["flags"] if not np.any(truth[labels == flag["label"]]))
    return entry


def evaluate_entry(cases: Path, results: Path, out: Path | None = None) -> dict:
    """``itermask3d evaluate``: cases/<name>.nii.gz analysed into results/<name>/.

    Case names starting with "normal" are the negatives of scan-level detection."""
    cases, results = Path(cases), Path(results)
    if not cases.is_dir() or not results.is_dir():
        raise ValueError("--cases and --results must be existing folders")
    entries = []
    for case in sorted(cases.glob("*.nii.gz")):
        if case.name.endswith("_truth.nii.gz"):
            continue
        folder = results / case.name.replace(".nii.gz", "")
        if (folder / "result.json").exists():
            entries.append(evaluate_case(case, folder))
    if not entries:
        raise ValueError(f"no analysed cases found in {results}")
    summary = summarise(entries)
    report = {"cases": entries, "summary": summary}
    if out is not None:
        Path(out).write_text(json.dumps(report, indent=2))
    return report


def summarise(entries: list[dict]) -> dict:
    """Median segmentation metrics over lesion cases and scan-level detection (score = mask size)."""
    normal = [e for e in entries if e["case"].startswith("normal")]
    anomalous = [e for e in entries if not e["case"].startswith("normal")]
    summary: dict = {"cases": len(entries)}
    with_truth = [e for e in entries if "dice" in e]
    for key in ("dice", "sensitivity", "precision", "iou", "voxel_auroc", "voxel_auprc", "assd_mm", "lesion_hit_rate"):
        values = [e[key] for e in with_truth if not np.isnan(e[key])]
        summary[f"median_{key}"] = float(np.median(values)) if values else float("nan")
    if normal and anomalous:
        scores = [e["score"] for e in normal + anomalous]
        labels = [False] * len(normal) + [True] * len(anomalous)
        summary["detection"] = detection_metrics(scores, labels)
    if normal:
        summary["median_flags_normal"] = float(np.median([e["flags"] for e in normal]))
    return summary
