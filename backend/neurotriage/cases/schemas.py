from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from neurotriage.core.inputs import RequestBody, no_nul
from neurotriage.jobs.schemas import ModelValidation

JobStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]
# rescan: the engine found acquisition problems (see CaseDetail.quality) and no urgent flag.
TriageName = Literal["routine", "review", "rescan", "urgent"]
FileKind = Literal["scan", "anomaly_map", "anomaly_mask"]


class ModelInfo(BaseModel):
    name: str
    version: str
    trained: bool


class FlagVerdictOut(BaseModel):
    verdict: Literal["accept", "reject", "unsure"]
    reason: str | None
    comment: str | None
    reviewer: str
    updated_at: datetime
    version: int


class FlagOut(BaseModel):
    id: int
    label: int
    voxel_count: int
    volume_ml: float
    centroid_mm: list[float]
    centroid_voxel: list[int]
    anchor_mm: list[float] | None = Field(
        default=None, description="A point of the flag itself (mm), where the viewer goes to show it; a curved "
        "region's centroid can lie outside it. None for results stored before the engine reported it."
    )
    bbox_voxel: list[list[int]]
    mean_anomaly: float
    max_anomaly: float
    verdict: FlagVerdictOut | None = Field(description="The viewer's own verdict on this flag.")
    other_verdicts: list[FlagVerdictOut] = Field(
        default_factory=list, description="Other readers' verdicts on this flag, oldest reader first."
    )


class WeakRegionOut(BaseModel):
    """A region large enough to flag that the engine left out because its peak anomaly stayed far below the
    strongest flag's (see CaseDetail.min_peak_ratio); shown so the reader can still look at it."""

    volume_ml: float
    centroid_mm: list[float] = Field(description="Centre in the scan's world coordinates (mm)")
    anchor_mm: list[float] | None = Field(default=None, description="A point of the region itself (mm); see FlagOut")
    peak_ratio: float = Field(description="Its peak anomaly as a fraction of the strongest flag's (0..1)")


class QualityIssueOut(BaseModel):
    """An acquisition problem that calls for a rescan (missing slices, heavy noise, ...), found by the engine on the
    scan's own voxel grid."""

    kind: str = Field(
        description=(
            '"missing_slices", "cut_off", "blank_region", "noise", "spike", "zipper", "ghosting", "motion" or '
            '"bias_field" (a newer engine may add kinds)'
        )
    )
    axis: int | None = Field(
        description=(
            "Voxel axis (0, 1, 2) the planes (for ghosting, the ghost's shift; for motion, the phase encoding) run "
            "along; null for the whole image"
        )
    )
    planes: list[int] | None = Field(
        description="First and last affected plane (voxel indices, inclusive); null when no planes are affected"
    )
    extent_mm: float | None = Field(description="Thickness of the affected planes in mm")
    message: str = Field(description="One sentence for the reader, derived from the image alone")


class CaseVerdictOut(BaseModel):
    verdict: Literal["normal", "abnormal", "artefact_rescan", "uncertain"]
    comment: str | None
    reviewer: str
    updated_at: datetime
    version: int


class MissedFindingOut(BaseModel):
    id: int
    point_mm: list[float]
    point_voxel: list[int] | None
    radius_mm: float
    comment: str | None
    reviewer: str
    created_at: datetime


class ClaimOut(BaseModel):
    claimed_by: str
    claimed_until: datetime


ReviewState = Literal["unreviewed", "in_progress", "reviewed"]


class MissedInTesting(BaseModel):
    """Lesions of 1 cm or more that the result's model missed on its synthetic benchmark (its validation record)."""

    missed: int
    total: int


class CaseSummary(BaseModel):
    id: int
    label: str
    sequence: str
    uploaded_at: datetime
    status: JobStatusName
    failure: Literal[
        "scan_refused", "sequence_mismatch", "no_model", "missing_scan", "time_limit", "storage_full", "internal",
        "queue_unavailable", "worker_stopped",
    ] | None = Field(
        default=None,
        description="Why the newest run failed (null otherwise, and for runs that failed before this was kept). "
        "sequence_mismatch: the scan looks like another sequence than the case's; re-run it with that sequence.",
    )
    progress: int
    stage: str | None
    score: float | None
    triage: TriageName | None
    rescan_recommended: bool = Field(
        description="The engine found acquisition problems (also when an urgent flag keeps triage urgent)"
    )
    flag_count: int
    reviewed: bool
    review_state: ReviewState = Field(description="By anyone: a case verdict, flag verdicts only, or neither")
    readers_disagree: bool = Field(
        default=False,
        description="The readers' case verdicts differ; told to a reader who reads blind only once their own is in",
    )
    my_review_state: ReviewState = Field(
        description="The same, counting the viewer's own verdicts only (what a second reader has still to read)"
    )
    claimed_by: str | None
    claimed_until: datetime | None
    model: ModelInfo | None
    screening: Literal["lesions", "checks"] | None = Field(
        description='What the shown result looked for: "lesions" (the model and the rescan checks) or "checks" (the '
        "rescan checks alone: no model reads this sequence, so nothing was screened for lesions and the scan needs "
        "a full read); null before any run succeeded."
    )
    missed_in_testing: MissedInTesting | None = Field(
        default=None,
        description="How many lesions of 1 cm or more the result's model missed in testing, so that a worklist row "
        "without flags says what it is worth; null when the result carries no validation record.",
    )
    result_run_id: int | None = Field(
        description="The run whose result (score, triage, flags, files) is shown: the newest successful run. "
        "It is an earlier run than the one `status` describes while a re-run is pending, or after it failed "
        "or was cancelled; null before any run succeeded."
    )


class PatientScanOut(BaseModel):
    """Another case of the same patient, as far as the case page lists it."""

    id: int
    label: str
    sequence: str
    uploaded_at: datetime
    acquisition_date: str | None = Field(description="From the series (shifted like every date where the site "
                                                     "shifts them); null when the series gave none")
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"] = Field(
        description="Its newest run's status")
    triage: Literal["routine", "review", "rescan", "urgent"] | None = Field(
        description="Its shown result's triage; null before any run succeeded")


class CaseDetail(CaseSummary):
    error: str | None
    retry_can_help: bool = Field(
        default=True,
        description="False when the newest run failed because the engine refused the scan itself (its error starts "
        "'The scan could not be analysed:'): running it again would fail the same way; upload a corrected scan.",
    )
    looks_like: Literal["t1", "t2", "flair"] | None = Field(
        default=None,
        description="For a sequence_mismatch: the sequence the scan looks like, which a re-run should be sent as "
        "(null otherwise, and for runs refused before this was kept).",
    )
    attempts: int
    source_format: str
    dicom_meta: dict[str, str]
    same_patient: list[PatientScanOut] = Field(
        default_factory=list,
        description="The patient's other cases here (newest acquisition first, at most 50), linked by the keyed "
        "pseudonym a DICOM upload gets; a NIfTI upload carries no patient link, so it has none.",
    )
    same_patient_more: int = Field(default=0, description="The patient's other cases left out of same_patient")
    delete_after: datetime | None = Field(
        default=None,
        description="When housekeeping deletes the case, the site's retention period after its upload "
        "(NEUROTRIAGE_RETENTION_DAYS); null while the site keeps cases until a coordinator deletes them.",
    )
    flags: list[FlagOut]
    quality: list[QualityIssueOut]
    case_verdict: CaseVerdictOut | None = Field(description="The viewer's own case verdict.")
    other_case_verdicts: list[CaseVerdictOut] = Field(
        default_factory=list, description="Other readers' case verdicts, oldest first (empty while hidden)."
    )
    other_readers: int = Field(default=0, description="Other readers who gave a flag or case verdict on this case")
    other_verdicts_hidden: bool = Field(
        default=False,
        description="The other readers' verdicts (here and on each flag) and marked findings are withheld until the "
        "viewer, a clinician, saves their own case verdict, so that each read stays independent. Coordinators "
        "always see them.",
    )
    findings: list[MissedFindingOut]
    earlier_run_verdicts: int = Field(
        default=0,
        description="The viewer's own flag verdicts on earlier runs' flags of this case: a re-run makes flags of its "
        "own, which start without verdicts, and those verdicts stay with their run",
    )
    review_seconds: float
    threshold: float | None
    passes: int | None
    seconds: float | None
    min_flag_ml: float | None = Field(
        description="Smallest region the model reports as a flag (mL, like the flags' volume_ml); smaller "
        "findings are never flagged. None for results stored before the engine reported it."
    )
    min_peak_ratio: float | None = Field(
        description="A region is flagged only if its peak anomaly reaches this fraction of the strongest flag's; "
        "weaker ones are listed in weak_regions. None for results stored before the engine did this."
    )
    weak_regions: list[WeakRegionOut]
    model_validation: ModelValidation | None = Field(
        description="What the model that made this result found when it was tested on synthetic scans, with the "
        "settings it ran with here; null when its weights carry no such record (or the result predates it)."
    )


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    page_size: int


class SeriesChoiceOut(BaseModel):
    """One series of a DICOM upload that holds several, named as the scanner names it (never by UID or
    description)."""

    choice: str = Field(description="Send back as the upload's `series` field to analyse this series.")
    number: int | None = Field(description="SeriesNumber")
    modality: str
    sequence: str = Field(description="The scanner's sequence name, e.g. *tfl3d1_16ns")
    acquisition: str = Field(description='"2D", "3D" or "" (MRAcquisitionType)')
    plane: str = Field(description='axial, coronal, sagittal, "oblique <nearest>", or ""')
    images: int = Field(description="Images, each frame of a multi-frame file counted")
    slice_mm: float | None = Field(description="Slice thickness (mm)")


class UploadRefused(BaseModel):
    detail: str
    series: list[SeriesChoiceOut] | None = Field(
        default=None, description="Present when the upload holds several DICOM series: the ones to choose from."
    )


# Stripped before its length is checked (blanks alone are no reason), then checked as Text is.
DeletionReason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500), AfterValidator(no_nul)
]


class CaseDeletion(RequestBody):
    reason: DeletionReason = Field(
        description="Why the case is deleted (uploaded by mistake, consent withdrawn, …); kept in the audit trail, "
        "so it must not name the patient.",
    )


class StorageSpaceOut(BaseModel):
    total_bytes: int = Field(description="Size of the disk that holds the storage folder")
    free_bytes: int
    cases: int = Field(description="Cases stored")
    case_bytes: float | None = Field(
        description="Mean bytes stored per case (scan, DICOM bundle, each run's maps) over the newest 20 cases; "
        "null before the first"
    )
    room_for_cases: int | None = Field(description="About how many more cases fit at that mean")
    notice: str | None = Field(description="Set when the storage is nearly full: what happens then and what to do")
    retention_days: int | None = Field(
        description="Cases are deleted this many days after upload (NEUROTRIAGE_RETENTION_DAYS); null: kept until a "
        "coordinator deletes them"
    )
