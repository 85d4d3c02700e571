import { useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { errorMessage } from '../api/errors';
import { keys } from '../api/queries';
import type { CaseDetail } from '../api/types';
import { formatDateTime, isActive } from '../lib/format';
import { worklistAddress } from '../lib/worklistMemory';

// The API's bounds, after surrounding blanks are removed.
export const REASON_MIN = 3;
export const REASON_MAX = 500;

/** What the worklist shows after a deletion (router state, which the worklist clears once read). */
export interface WorklistNotice {
  notice: string;
}

/**
 * For coordinators: delete a case uploaded by mistake or withdrawn from the study. Two steps (open, then confirm
 * with a reason), since nothing brings the case back; the audit trail keeps its history and the reason.
 */
export function DeleteCasePanel({ c }: { c: CaseDetail }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const trimmed = reason.trim();
  const pending = isActive(c.status);
  const remove = useMutation({
    mutationFn: () => api.deleteCase(c.id, trimmed),
    onMutate: () => setError(null),
    onSuccess: () => {
      qc.removeQueries({ queryKey: keys.case(c.id) });
      void qc.invalidateQueries({ queryKey: keys.allCases });
      const state: WorklistNotice = { notice: `Case ${c.id} (${c.label}) was deleted.` };
      navigate(worklistAddress(), { state });
    },
    onError: (e) => setError(`The case was not deleted: ${errorMessage(e)}`),
  });
  const tooShort = trimmed.length < REASON_MIN;
  // a reader holding the case is reading it now: what they have not saved goes with it
  const reader = c.claimed_by && c.claimed_until && Date.parse(c.claimed_until) > Date.now() ? c.claimed_by : null;

  return (
    <section className="panel delete-case-panel" aria-labelledby="delete-case-title">
      <h2 id="delete-case-title">Delete case</h2>
      {!open ? (
        <>
          <p className="muted small">
            For a scan uploaded by mistake or a participant who withdrew: removes the scan, every run's results,
            and every reader's verdicts and findings.
          </p>
          <button
            type="button"
            aria-disabled={pending}
            title={pending ? 'A run of this case is still queued or running: cancel it or wait for it first' : undefined}
            onClick={() => {
              if (!pending) setOpen(true);
            }}
          >
            Delete case…
          </button>
          {pending && <p className="muted small">A run is queued or running: cancel it or wait for it first.</p>}
        </>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (remove.isPending) return;
            if (tooShort) setError(`Give a reason of at least ${REASON_MIN} characters: the audit trail keeps it.`);
            else remove.mutate();
          }}
        >
          <p className="small error-text">
            Case {c.id} ({c.label}) will be deleted with its scan, results, verdicts and findings. This cannot be
            undone. The audit trail keeps its events and your reason.
          </p>
          {reader && (
            <p className="small error-text" role="note" data-testid="delete-while-read">
              {reader} has this case open (claimed until {formatDateTime(c.claimed_until)}): what they have not saved
              yet is lost, and their page will say the case was deleted. Consider telling them first.
            </p>
          )}
          <label className="field">
            <span>Reason (at least {REASON_MIN} characters, kept in the audit trail; do not name the patient)</span>
            <textarea
              value={reason}
              maxLength={REASON_MAX}
              rows={2}
              required
              onChange={(e) => setReason(e.target.value)}
              placeholder="e.g. uploaded under the wrong study; consent withdrawn"
            />
          </label>
          {error && (
            <div className="error-box" role="alert">
              {error}
            </div>
          )}
          <div className="button-row">
            <button type="submit" className="danger" aria-disabled={tooShort || remove.isPending} aria-busy={remove.isPending}>
              Delete case {c.id}
            </button>
            <button
              type="button"
              onClick={() => {
                setOpen(false);
                setError(null);
              }}
            >
              Keep the case
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
