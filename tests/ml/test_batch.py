"""`itermask3d infer` and `itermask3d check` on several scans or a folder: one complete result folder per scan,
a summary table, bad scans reported without stopping the others, and --resume."""
import csv
import json

import nibabel as nib
import pytest

from itermask3d.batch import BatchScan, expand_inputs, run_batch
from itermask3d.cli import main
from itermask3d.errors import InputError
from itermask3d.synthetic import make_case

GRID = {"spacing_mm": (3.0, 3.0, 3.0)}


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    """A folder with a T2 normal, a T2 spike scan and a file that is not NIfTI."""
    folder = tmp_path_factory.mktemp("scans")
    nib.save(make_case("normal", "t2", seed=3, **GRID).image, str(folder / "normal.nii.gz"))
    nib.save(make_case("artefact", "t2", seed=3, artefact_type="spike", **GRID).image, str(folder / "spike.nii.gz"))
    (folder / "notes.nii.gz").write_text("not an image")
    return folder


def _summary(out):
    with open(out / "summary.csv", newline="") as stream:
        return {row["name"]: row for row in csv.DictReader(stream)}


def test_check_a_folder_reports_each_scan_and_keeps_going_past_a_bad_one(scans, tmp_path, capsys):
    out = tmp_path / "checks"
    assert main(["check", str(scans), "--out", str(out), "--sequence", "t2"]) == 2
    rows = _summary(out)
    assert [rows[n]["status"] for n in ("normal", "notes", "spike")] == ["done", "failed", "done"]
    assert rows["normal"]["rescan"] == "no" and rows["spike"]["rescan"] == "yes"
    assert "spike" in rows["spike"]["reasons"].split(";")
    assert "NIfTI" in rows["notes"]["error"]
    spike = json.loads((out / "spike" / "checks.json").read_text())
    assert spike["rescan"] and spike["sequence"] == "t2" and any(q["kind"] == "spike" for q in spike["quality"])
    # a failed scan leaves no folder, and no half-written folder is left anywhere
    assert sorted(p.name for p in out.iterdir()) == ["normal", "spike", "summary.csv"]
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"scans": 3, "done": 2, "kept": 0, "failed": 1,
                                        "summary": str(out / "summary.csv")}
    assert "1 of 3 scans had an input error" in captured.err and "Traceback" not in captured.err


def test_resume_keeps_finished_scans_without_running_them_again(scans, tmp_path, capsys, monkeypatch):
    out = tmp_path / "checks"
    main(["check", str(scans / "normal.nii.gz"), str(scans / "spike.nii.gz"), "--out", str(out), "--sequence", "t2"])
    before = (out / "normal" / "checks.json").read_text()
    (out / "spike").rename(tmp_path / "spike-moved")  # as if the run had stopped before this scan
    capsys.readouterr()
    assert main(["check", str(scans / "normal.nii.gz"), str(scans / "spike.nii.gz"), "--out", str(out),
                 "--resume", "--sequence", "t2"]) == 0
    rows = _summary(out)
    assert rows["normal"]["status"] == "kept" and rows["spike"]["status"] == "done"
    assert rows["normal"]["rescan"] == "no"
    assert (out / "normal" / "checks.json").read_text() == before  # untouched: its "seconds" would differ
    # checks recorded for another sequence are not this run's to keep (the sequence check, which would refuse these
    # T2 scans as FLAIR, is set aside: this is about what --resume keeps)
    import itermask3d.rescan as rescan

    monkeypatch.setattr(rescan, "check_sequence", lambda prepared, stated: None)
    main(["check", str(scans / "normal.nii.gz"), str(scans / "spike.nii.gz"), "--out", str(out), "--resume",
          "--sequence", "flair"])
    assert {row["status"] for row in _summary(out).values()} == {"done"}


def test_resume_reruns_results_of_other_settings(scans, tmp_path):
    options = ["--profile", "tiny", "--device", "cpu", "--allow-untrained", "--sequence", "t2"]
    out = tmp_path / "out"
    inputs = [str(scans / "normal.nii.gz"), str(scans / "spike.nii.gz")]
    assert main(["infer", *inputs, "--out", str(out), *options]) == 0
    assert main(["infer", *inputs, "--out", str(out), "--resume", *options]) == 0
    assert {row["status"] for row in _summary(out).values()} == {"kept"}
    assert main(["infer", *inputs, "--out", str(out), "--resume", "--gamma", "0.3", *options]) == 0
    assert {row["status"] for row in _summary(out).values()} == {"done"}
    assert json.loads((out / "normal" / "result.json").read_text())["details"]["gamma"] == 0.3


def test_results_inside_the_scans_folder_are_refused(scans, tmp_path):
    with pytest.raises(InputError, match="lie one inside the other"):
        expand_inputs([scans], "t2", scans / "results")
    inner = tmp_path / "out" / "scans"  # a result folder named "scans" would replace it
    inner.mkdir(parents=True)
    with pytest.raises(InputError, match="lie one inside the other"):
        expand_inputs([inner], "t2", tmp_path / "out")


def test_a_fault_mid_batch_stops_it_and_keeps_what_finished(scans, tmp_path):
    out = tmp_path / "out"
    calls = []

    def process(path, folder):
        calls.append(path.name)
        (folder / "result.json").write_text("{}")
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return {}

    batch = [BatchScan("a", scans / "normal.nii.gz"), BatchScan("b", scans / "spike.nii.gz"),
             BatchScan("c", scans / "normal.nii.gz")]
    with pytest.raises(RuntimeError):
        run_batch(batch, out, process, "result.json", lambda result: {}, ())
    assert sorted(p.name for p in out.iterdir()) == ["a", "summary.csv"]
    assert list(_summary(out)) == ["a"]


def test_folders_follow_bids_names_and_refuse_two_scans_of_one_name(tmp_path):
    anat = tmp_path / "sub-01" / "anat"
    anat.mkdir(parents=True)
    for name in ("sub-01_T1w.nii.gz", "sub-01_FLAIR.nii.gz"):
        (anat / name).write_bytes(b"")
    assert [s.name for s in expand_inputs([tmp_path], "flair")] == ["sub-01_FLAIR"]
    with pytest.raises(InputError, match="holds no NIfTI scan"):
        expand_inputs([tmp_path], "t2")
    other = tmp_path / "other"
    other.mkdir()
    (other / "sub-01_T1w.nii.gz").write_bytes(b"")
    with pytest.raises(InputError, match="share the result folder 'sub-01_T1w'"):
        expand_inputs([anat / "sub-01_T1w.nii.gz", other / "sub-01_T1w.nii.gz"], "t1")
    with pytest.raises(InputError, match="share the result folder"):  # one folder on a case-blind file system
        expand_inputs([anat / "sub-01_T1w.nii.gz", other / "SUB-01_T1w.nii.gz"], "t1")
    with pytest.raises(InputError, match="would overwrite the batch's summary.csv"):
        expand_inputs([anat / "sub-01_T1w.nii.gz", other / "summary.csv.nii.gz"], "t1")


def test_infer_on_several_scans_matches_one_scan_at_a_time(scans, tmp_path, capsys):
    options = ["--profile", "tiny", "--device", "cpu", "--allow-untrained", "--sequence", "t2"]
    assert main(["infer", str(scans / "spike.nii.gz"), str(scans / "normal.nii.gz"),
                 "--out", str(tmp_path / "batch"), *options]) == 0
    assert main(["infer", str(scans / "normal.nii.gz"), "--out", str(tmp_path / "single"), *options]) == 0
    batch = json.loads((tmp_path / "batch" / "normal" / "result.json").read_text())
    single = json.loads((tmp_path / "single" / "result.json").read_text())
    for key in ("score", "threshold", "mean_error", "passes", "flags", "triage"):
        assert batch[key] == single[key], key
    for output in ("anomaly_map", "anomaly_mask", "reconstruction"):
        assert (tmp_path / "batch" / "normal" / f"{output}.nii.gz").is_file()
    rows = _summary(tmp_path / "batch")
    assert rows["normal"]["triage"] == single["triage"] and float(rows["normal"]["score"]) == single["score"]
    assert "spike" in rows["spike"]["rescan"].split(";")
    assert rows["spike"]["model"].startswith("itermask3d-tiny-t2 ")


def test_one_bad_scan_on_its_own_is_one_line(tmp_path, capsys):
    assert main(["check", str(tmp_path / "missing.nii.gz"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not found" in err


def test_a_killed_run_leaves_nothing_that_the_next_one_keeps(scans, tmp_path):
    out = tmp_path / "out"
    (out / ".normal.1234abcd.partial").mkdir(parents=True)  # a scan interrupted mid-write
    (out / ".summary.1234abcd.csv").write_text("half a table")
    (out / "spike").mkdir()
    (out / "spike" / "checks.json").write_text("{not json")  # unreadable: run again, not kept
    assert main(["check", str(scans / "normal.nii.gz"), str(scans / "spike.nii.gz"), "--out", str(out),
                 "--resume", "--sequence", "t2"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["normal", "spike", "summary.csv"]
    assert _summary(out)["spike"]["status"] == "done"
    assert json.loads((out / "spike" / "checks.json").read_text())["rescan"] is True


def test_one_scan_that_fails_half_way_leaves_its_results_folder_as_it_was(scans, tmp_path, monkeypatch, capsys):
    """A single scan's files go into the folder only once the run returned: an error after the first file is
    written must not leave a new map beside an old result (the same layout as before, one scan alone)."""
    import itermask3d.rescan as rescan

    out = tmp_path / "out"
    assert main(["check", str(scans / "normal.nii.gz"), "--out", str(out), "--sequence", "t2"]) == 0
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    assert list(before) == ["checks.json"]

    def fails_after_writing(input_path, out_dir, sequence="t1"):  # type: ignore[no-untyped-def]
        (out_dir / "checks.json").write_text("{}")
        (out_dir / "extra.nii.gz").write_bytes(b"half")
        raise RuntimeError("disk went away")

    monkeypatch.setattr(rescan, "check_scan", fails_after_writing)
    assert main(["check", str(scans / "spike.nii.gz"), "--out", str(out), "--sequence", "t2"]) != 0
    assert "disk went away" in capsys.readouterr().err
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".partial")] == []
