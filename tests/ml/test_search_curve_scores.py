"""scripts/search_curve_scores.py: candidate scan scores from the search curves of a benchmark run, ranked
against the normals (AUROC), so that a score can be judged on the run's own result.json files."""
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "search_curve_scores.py"


def _case(work: Path, name: str, score: float, mean_error: float, rise_from: int | None) -> None:
    steps = list(range(1, 101))
    # a slow climb, then (where asked) a steep rise over the last steps before the final point
    curve = [0.01 + 0.0001 * i + (0.02 * (i - rise_from) if rise_from and i >= rise_from else 0.0)
             for i in steps[:-1]]
    result = {"score": score, "mean_error": mean_error, "flags": [{}] if score else [],
              "details": {"search_steps": steps, "search_thresholds": curve + [0.3]}}
    folder = work / "results" / "spec" / name
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps(result))


def test_scores_rank_each_lesion_scan_by_what_it_shows(tmp_path: Path) -> None:
    _case(tmp_path, "normal_00", 0.0, 0.0010, None)
    _case(tmp_path, "normal_01", 0.0, 0.0011, None)
    _case(tmp_path, "lesion_rising_00", 0.0, 0.0005, rise_from=95)  # missed, but its curve rises
    _case(tmp_path, "lesion_flagged_00", 0.01, 0.0005, None)  # flagged, flat curve
    out = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), "spec"], capture_output=True, text=True,
                         check=True).stdout
    auroc = next(line for line in out.splitlines() if line.startswith("AUROC lesion"))
    # mask size: the flagged scan beats both normals, the missed one ties them; the rise: the other way round
    assert "score 0.750" in auroc and "rise 0.750" in auroc and "t99 0.750" in auroc
    assert "mean_error 0.000" in auroc  # both lesion scans have the smaller mean error
    rising = next(line for line in out.splitlines() if line.startswith("lesion_rising_00"))
    assert "rise 0.0201 at 99" in rising  # 0.02 per step on top of the slow climb
    assert not any(line.startswith("AUROC artefact") for line in out.splitlines())  # no artefact cases here


def test_a_folder_without_that_variant_gets_one_clear_line(tmp_path: Path) -> None:
    _case(tmp_path, "normal_00", 0.0, 0.001, None)
    run = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path), "coarse-fine"], capture_output=True, text=True)
    assert run.returncode == 1
    assert "no result.json under" in run.stderr and "Traceback" not in run.stderr
