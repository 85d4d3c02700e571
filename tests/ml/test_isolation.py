"""The engine must not pull in the web stack."""
import json
import subprocess
import sys

import nibabel as nib

FORBIDDEN = ("fastapi", "sqlalchemy", "celery", "pydantic_settings")

SCRIPT = """
import json, sys
from itermask3d.api import Analyzer
analyzer = Analyzer(profile="tiny", sequence="t1", device="cpu", model_path=None, registration="moments")
result = analyzer.analyse(sys.argv[1], sys.argv[2], seed=0)
loaded = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"loaded": loaded, "passes": result["passes"]}))
"""


def test_import_and_inference_do_not_load_web_stack(small_lesion_case, tmp_path):
    scan, _, _ = small_lesion_case
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(scan), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["passes"] > 1
    assert not set(report["loaded"]) & set(FORBIDDEN)
    for name in ("anomaly_map", "anomaly_mask", "reconstruction"):
        img = nib.load(str(tmp_path / "out" / f"{name}.nii.gz"))
        assert img.shape == nib.load(str(scan)).shape
