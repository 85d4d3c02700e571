import { useEffect, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { ApiError, errorMessage } from '../api/errors';
import { keys } from '../api/queries';
import type { CaseDetail, CaseVerdictValue } from '../api/types';
import { formatDateTime } from '../lib/format';

export const CASE_VERDICTS: { value: CaseVerdictValue; text: string }[] = [
  { value: 'normal', text: 'Normal' },
  { value: 'abnormal', text: 'Abnormal' },
  { value: 'artefact_rescan', text: 'Artefact – rescan' },
  { value: 'uncertain', text: 'Uncertain' },
];

export function caseVerdictText(v: CaseVerdictValue | null | undefined): string {
  return CASE_VERDICTS.find((x) => x.value === v)?.text ?? 'None yet';
}

export function CaseVerdictPanel({
  c,
  canReview,
  onNotice,
}: {
  c: CaseDetail;
  canReview: boolean;
  /** shows a confirmation in the page's single status region */
  onNotice: (msg: string) => void;
}) {
  const qc = useQueryClient();
  const saved = c.case_verdict;
  const [choice, setChoice] = useState<CaseVerdictValue | null>(saved?.verdict ?? null);
  const [comment, setComment] = useState(saved?.comment ?? '');
  const [err, setErr] = useState<string | null>(null);

  // follow the server when it changes underneath (reload after a conflict, another tab)
  useEffect(() => {
    setChoice(saved?.verdict ?? null);
    setComment(saved?.comment ?? '');
  }, [saved?.version, saved?.verdict, saved?.comment]);

  const save = useMutation({
    mutationFn: (verdict: CaseVerdictValue) =>
      api.putCaseVerdict(c.id, { verdict, comment: comment.trim() || null, version: saved?.version ?? 0 }),
    onSuccess: (v) => {
      qc.setQueryData<CaseDetail>(keys.case(c.id), (old) =>
        old ? { ...old, case_verdict: v, review_state: 'reviewed', reviewed: true } : old,
      );
      void qc.invalidateQueries({ queryKey: keys.allCases });
      setErr(null);
      onNotice('Case verdict saved');
    },
    onError: (e) => {
      onNotice('');
      if (e instanceof ApiError && e.isConflict) {
        setErr('Someone else changed the case verdict in the meantime; the case was reloaded. Check it and save again.');
        void qc.invalidateQueries({ queryKey: keys.case(c.id) });
      } else {
        setErr(`Case verdict not saved: ${errorMessage(e)}`);
      }
    },
  });

  return (
    <section className="panel" aria-labelledby="case-verdict-title">
      <div className="panel-title-row">
        <h2 id="case-verdict-title">Case verdict</h2>
        <span className="muted small">
          {saved ? `${caseVerdictText(saved.verdict)} · ${saved.reviewer} · ${formatDateTime(saved.updated_at)}` : 'None yet'}
        </span>
      </div>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (choice) save.mutate(choice);
        }}
      >
        <div className="segmented" role="radiogroup" aria-label="Case verdict">
          {CASE_VERDICTS.map((v) => (
            <label key={v.value} className={`seg${choice === v.value ? ' on' : ''}`}>
              <input
                type="radio"
                name="case-verdict"
                value={v.value}
                checked={choice === v.value}
                disabled={!canReview}
                onChange={() => setChoice(v.value)}
              />
              <span>{v.text}</span>
            </label>
          ))}
        </div>
        <label className="field">
          <span>Case comment</span>
          <textarea
            rows={2}
            value={comment}
            maxLength={4000}
            disabled={!canReview}
            onChange={(e) => setComment(e.target.value)}
          />
        </label>
        <div className="row-gap">
          <button type="submit" className="primary" disabled={!canReview || !choice || save.isPending}>
            Save case verdict
          </button>
        </div>
        {err && (
          <div className="error-box" role="alert">
            {err}
          </div>
        )}
      </form>
    </section>
  );
}
