"""scripts/compare_precision.py: the same case through float32 and bfloat16 inference, compared."""
import importlib.util
from pathlib import Path

from itermask3d.api import Analyzer

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compare_precision.py"


def _script():
    spec = importlib.util.spec_from_file_location("compare_precision", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_case_runs_in_both_precisions_and_the_analyzer_keeps_its_own():
    analyzer = Analyzer("tiny", "t1", "cpu")  # random weights: fast, and enough to tell the precisions apart
    case = {"name": "lesion_tumour", "kind": "lesion", "seed": 7, "spacing_mm": (3.0, 3.0, 3.0), "oblique": False,
            "lesion_type": "tumour", "lesion_size_mm": 14}
    row = _script().compare_case(analyzer, case, "t1")
    full, half = row["float32"], row["bfloat16"]
    assert full["threshold"] != half["threshold"]  # the second run really was rounded to bfloat16
    assert 0.0 <= row["masks_dice"] <= 1.0 and 0.0 <= full["dice_truth"] <= 1.0 and 0.0 <= half["dice_truth"] <= 1.0
    assert full["passes"] > 0 and half["passes"] > 0
    assert analyzer.precision is None  # a CPU analyser's own precision, restored
