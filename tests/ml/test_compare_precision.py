"""scripts/compare_precision.py: the same case through float32 and bfloat16 inference, compared."""
from itermask3d.api import Analyzer


def test_a_case_runs_in_both_precisions_and_the_analyzer_keeps_its_own(load_script):
    analyzer = Analyzer("tiny", "t1", "cpu")  # random weights: fast, and enough to tell the precisions apart
    case = {"name": "lesion_tumour", "kind": "lesion", "seed": 7, "spacing_mm": (3.0, 3.0, 3.0), "oblique": False,
            "lesion_type": "tumour", "lesion_size_mm": 14}
    row = load_script("compare_precision").compare_case(analyzer, case, "t1")
    full, half = row["float32"], row["bfloat16"]
    assert full["threshold"] != half["threshold"]  # the second run really was rounded to bfloat16
    assert 0.0 <= row["masks_dice"] <= 1.0 and 0.0 <= full["dice_truth"] <= 1.0 and 0.0 <= half["dice_truth"] <= 1.0
    assert full["passes"] > 0 and half["passes"] > 0
    assert analyzer.precision is None  # a CPU analyser's own precision, restored
