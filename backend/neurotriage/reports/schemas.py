from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class VerdictCounts(BaseModel):
    accept: int
    reject: int
    unsure: int


class ModelFlagCounts(VerdictCounts):
    model: str


class ReviewerFlagCounts(VerdictCounts):
    reviewer: str


class CaseVerdictCounts(BaseModel):
    normal: int
    abnormal: int
    artefact_rescan: int
    uncertain: int


class DurationSummary(BaseModel):
    count: int
    median_s: float | None
    mean_s: float | None
    p90_s: float | None


class Turnaround(BaseModel):
    upload_to_first_verdict: DurationSummary
    queue_to_result: DurationSummary


class AgreementSummary(BaseModel):
    """Agreement between readers on their independent first reads: each reader's verdict as first saved, while the
    others' were hidden from them or not yet given; a verdict changed later, or first given with another reader's in
    view, may follow the others' and would inflate agreement."""

    items_with_multiple_readers: int
    pairs: int
    percent_agreement: float | None
    cohen_kappa: float | None
    revised: int = Field(description="Verdicts whose current value differs from the reader's first read")
    not_independent: int = Field(
        default=0,
        description="Verdicts left out: first given with another reader's verdict on the case in view (a reader "
        "who also coordinates, or a flag read after the reader's own case verdict)",
    )


class Agreement(BaseModel):
    case_verdicts: AgreementSummary
    flag_verdicts: AgreementSummary


class Stats(BaseModel):
    cases: int
    flags_by_model: list[ModelFlagCounts]
    flags_by_reviewer: list[ReviewerFlagCounts]
    case_verdicts: CaseVerdictCounts
    turnaround: Turnaround
    agreement: Agreement


class ExportRow(BaseModel):
    case_id: int
    label: str
    sequence: str
    uploaded_at: str
    status: str = Field(description="Status of the case's newest run")
    failure: str | None = Field(description="Why the newest run failed (the case page's failure kinds, e.g. "
                                            "sequence_mismatch); null unless it failed")
    result_run: int | None = Field(
        description="Id of the run (job) the result columns come from (the newest successful one); earlier than the "
        "newest run while a re-run is pending, failed or cancelled"
    )
    result_run_number: int | None = Field(
        default=None,
        description="That run's number among the case's runs, as the case page names it (Run 2): in order requested",
    )
    screening: Literal["lesions", "checks"] | None = Field(
        description='What the result looked for: "checks" is the rescan checks alone (no lesion screening)'
    )
    model: str | None
    score: float | None
    triage: str | None
    quality: str
    flags: int | None = Field(description="Flags of the result; null for a checks-only result (no lesion search ran)")
    weak_regions: int | None = Field(
        description="Regions of flag size left out of the flags as far weaker than the strongest; null for checks-only"
    )
    min_flag_ml: float | None = Field(description="Smallest region the run reports as a flag (mL)")
    flags_accepted: int
    flags_rejected: int
    flags_unsure: int
    case_verdicts: str
    readers_disagree: bool = Field(description="The readers' case verdicts differ (two readers or more)")
    first_verdict_at: str | None
    turnaround_s: float | None
