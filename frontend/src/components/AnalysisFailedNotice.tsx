import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { errorMessage } from '../api/errors';
import { keys } from '../api/queries';
import type { CaseDetail } from '../api/types';
import { readsOnShownRun, readsText } from './RunsPanel';

/**
 * The newest run failed: why, what to do, and "Retry analysis" where running it again can help. The retry makes
 * flags of its own like any re-run, so it asks first when the shown (earlier) result's flags have verdicts.
 */
export function AnalysisFailedNotice({ c, canRerun }: { c: CaseDetail; canRerun: boolean }) {
  const qc = useQueryClient();
  const [asking, setAsking] = useState(false);
  const rerun = useMutation({
    mutationFn: () => api.rerun(c.id),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.case(c.id) });
      void qc.invalidateQueries({ queryKey: keys.allCases });
    },
  });
  const reads = readsOnShownRun(c);
  const retry = () => {
    if (reads && !asking) {
      setAsking(true);
      return;
    }
    setAsking(false);
    rerun.mutate();
  };
  const retryHelps = canRerun && c.retry_can_help !== false && c.failure !== 'sequence_mismatch';
  return (
    <div className="error-box case-error" role="alert">
      <strong>Analysis failed.</strong> {c.error ?? 'No error message was recorded.'}
      {c.retry_can_help === false && <> Running it again would fail the same way: upload a corrected scan as a new case.</>}
      {c.failure === 'sequence_mismatch' && (
        <> Running it again as the same sequence would fail the same way: choose its sequence under Runs.</>
      )}
      {retryHelps && (
        <>
          {' '}
          <button type="button" onClick={retry} disabled={rerun.isPending}>
            {asking ? 'Retry analysis anyway' : 'Retry analysis'}
          </button>
        </>
      )}
      {asking && reads && <p className="small">{readsText(reads, 'The shown run')}</p>}
      {rerun.isError && <span> Retry not started: {errorMessage(rerun.error)}</span>}
    </div>
  );
}
