import { vi } from 'vitest';
import { api } from '../api/client';
import type { CaseDetail, Flag, Job } from '../api/types';

/** One unreviewed flag; ``over`` sets what a test looks at. */
export function flagOf(id: number, label: number, over: Partial<Flag> = {}): Flag {
  return {
    id,
    label,
    voxel_count: 100,
    volume_ml: 1.5,
    centroid_mm: [0, 0, 0],
    centroid_voxel: [1, 2, 3],
    bbox_voxel: [
      [0, 0, 0],
      [2, 2, 2],
    ],
    mean_anomaly: 0.5,
    max_anomaly: 0.9,
    verdict: null,
    ...over,
  } as Flag;
}

/** Run ``id`` of case 5; a failed one says "out of memory". */
export function jobOf(id: number, status: Job['status'], over: Partial<Job> = {}): Job {
  return {
    id,
    case_id: 5,
    status,
    progress: status === 'succeeded' ? 100 : 0,
    stage: null,
    attempts: 1,
    error: status === 'failed' ? 'out of memory' : null,
    model_profile: 'fast',
    screening: 'lesions',
    created_at: '2026-01-01T10:00:00Z',
    started_at: null,
    finished_at: null,
    ...over,
  };
}

/** A succeeded case (id 5, "case five") with two unreviewed flags, for case page and panel tests. */
export function caseDetail(over: Partial<CaseDetail> = {}): CaseDetail {
  return {
    id: 5,
    label: 'case five',
    sequence: 't1',
    uploaded_at: '2026-01-01T10:00:00Z',
    status: 'succeeded',
    progress: 100,
    stage: null,
    score: 0.01,
    triage: 'review',
    rescan_recommended: false,
    flag_count: 2,
    reviewed: false,
    review_state: 'unreviewed',
    my_review_state: 'unreviewed',
    claimed_by: null,
    claimed_until: null,
    model: { name: 'itermask3d-fast-t1', version: '0.1', trained: false },
    error: null,
    flags: [flagOf(51, 1, { centroid_mm: [10, 20, 30] }), flagOf(52, 2, { centroid_mm: [-5, 0, 5] })],
    quality: [],
    threshold: 0.03,
    passes: 100,
    seconds: 12,
    case_verdict: null,
    findings: [],
    attempts: 1,
    review_seconds: 0,
    dicom_meta: {},
    source_format: 'nifti',
    result_run_id: (over.status ?? 'succeeded') === 'succeeded' ? 1 : null,
    ...over,
  } as CaseDetail;
}

/** A worklist page answer for ``ids`` (only the id and label of each row matter to the case page). */
export function caseListOf(ids: number[], total = ids.length, page = 1, pageSize = 25) {
  return {
    items: ids.map((id) => caseDetail({ id, label: `case ${id}` })),
    total,
    page,
    page_size: pageSize,
  } as never;
}

/** The calls a case page makes besides loading the case, answered as for a signed-in clinician ``clin``
 * on an empty worklist; a test overrides what it looks at. Undo with ``vi.restoreAllMocks()``. */
export function mockCasePageCalls(): void {
  vi.spyOn(api, 'me').mockResolvedValue({ id: 1, username: 'clin', roles: ['clinician'], password_change_required: false });
  vi.spyOn(api, 'listCases').mockResolvedValue(caseListOf([]));
  vi.spyOn(api, 'claim').mockResolvedValue({ claimed_by: 'clin', claimed_until: '2026-01-01T11:00:00Z' });
  vi.spyOn(api, 'reportReviewTime').mockResolvedValue(undefined);
  vi.spyOn(api, 'listRuns').mockResolvedValue([]);
  vi.spyOn(api, 'releaseClaimOnLeave').mockResolvedValue(true);
}
