import { useEffect, useRef, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { ApiError, errorMessage } from '../api/errors';
import { keys } from '../api/queries';
import type { CaseDetail, CaseVerdict, CaseVerdictValue, Flag } from '../api/types';
import { formatDateTime } from '../lib/format';
import { loadDraft, saveDraftPart } from '../lib/caseDraft';
import { releaseClaimAfterVerdict } from '../lib/useCaseSession';

export const CASE_VERDICTS: { value: CaseVerdictValue; text: string }[] = [
  { value: 'normal', text: 'Normal' },
  { value: 'abnormal', text: 'Abnormal' },
  { value: 'artefact_rescan', text: 'Artefact – rescan' },
  { value: 'uncertain', text: 'Uncertain' },
];

export function caseVerdictText(v: CaseVerdictValue | null | undefined): string {
  return CASE_VERDICTS.find((x) => x.value === v)?.text ?? 'None yet';
}

/** What the heading row says about the viewer's own case verdict (never as if nobody had read the case). */
export function ownCaseVerdictText(saved: CaseVerdict | null, canReview: boolean, others: number): string {
  if (saved) return `Your verdict: ${caseVerdictText(saved.verdict)} · ${formatDateTime(saved.updated_at)}`;
  if (canReview) return 'Your verdict: none yet';
  return others ? `${others} reader${others === 1 ? '' : 's'} gave a case verdict` : 'No reader has given a case verdict yet';
}

/** "flag 2", "flags 1 and 3", "flags 1, 2 and 4": flags by label, as the flag list names them. */
function flagNames(labels: number[]): string {
  if (labels.length === 1) return `flag ${labels[0]}`;
  return `flags ${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1]}`;
}

/** What in the reader's own flag verdicts speaks against a "Normal" case verdict; empty when nothing does. */
export function normalVerdictConcerns(flags: Flag[]): string[] {
  const accepted = flags.filter((f) => f.verdict?.verdict === 'accept').map((f) => f.label);
  const open = flags.filter((f) => !f.verdict).map((f) => f.label);
  const concerns: string[] = [];
  if (accepted.length) {
    concerns.push(`You accepted ${flagNames(accepted)} as ${accepted.length === 1 ? 'a lesion' : 'lesions'}.`);
  }
  if (open.length) {
    concerns.push(
      `${open.length} ${open.length === 1 ? 'flag has' : 'flags have'} no verdict of yours yet (${flagNames(open)}).`,
    );
  }
  return concerns;
}

export function CaseVerdictPanel({
  c,
  canReview,
  onNotice,
  draftUser = null,
}: {
  c: CaseDetail;
  canReview: boolean;
  /** shows a confirmation in the page's single status region */
  onNotice: (msg: string) => void;
  /** the reader whose unsaved choice and comment are kept in sessionStorage until saved; null keeps none */
  draftUser?: string | null;
}) {
  const qc = useQueryClient();
  const saved = c.case_verdict;
  const others = c.other_case_verdicts ?? [];
  const savedComment = saved?.comment ?? '';
  // a draft left when the page went away (an expired session, a reload) comes back, unless it is what was saved
  const [restored] = useState(() => {
    if (!draftUser || !canReview) return null;
    const d = loadDraft(draftUser, c.id).caseVerdict;
    if (!d || (d.verdict === (saved?.verdict ?? null) && d.comment.trim() === savedComment.trim())) return null;
    return d;
  });
  const [choice, setChoice] = useState<CaseVerdictValue | null>(restored ? restored.verdict : (saved?.verdict ?? null));
  const [comment, setComment] = useState(restored ? restored.comment : savedComment);
  const [err, setErr] = useState<string | null>(null);
  // a save was refused (409) because the verdict changed elsewhere: the reader's unsaved choice and comment stay,
  // with the verdict now on the server beside them, until they save again or discard theirs
  const [conflict, setConflict] = useState(false);
  const dirty = choice !== (saved?.verdict ?? null) || comment.trim() !== savedComment.trim();
  // "Normal" beside the reader's own flag verdicts that speak against it (a flag accepted as a lesion, a flag not
  // judged yet) is asked about once before it is saved; the question follows the flags as they change
  const normalConcerns = choice === 'normal' ? normalVerdictConcerns(c.flags ?? []) : [];
  const [askedNormal, setAskedNormal] = useState(false);
  const askingNormal = askedNormal && normalConcerns.length > 0;
  // the reader answered the question for this choice and comment only; once nothing stands against "Normal" any
  // more, a later contradiction must be asked about afresh
  const nothingToAsk = normalConcerns.length === 0;
  useEffect(() => {
    setAskedNormal(false);
  }, [choice, comment, nothingToAsk]);

  // follow the server when it changes underneath (another tab), not on the first render, which may have restored
  // a draft, and not after a conflict, whose reload must not overwrite what the reader was saving
  const serverKey = `${saved?.version ?? 0}|${saved?.verdict ?? ''}|${savedComment}`;
  const lastServerKey = useRef(serverKey);
  useEffect(() => {
    if (lastServerKey.current === serverKey) return;
    lastServerKey.current = serverKey;
    if (conflict) return;
    setChoice(saved?.verdict ?? null);
    setComment(saved?.comment ?? '');
  }, [serverKey, saved?.verdict, saved?.comment, conflict]);
  // once the reader's input matches the saved verdict there is nothing of theirs left to keep apart
  useEffect(() => {
    if (conflict && !dirty) setConflict(false);
  }, [conflict, dirty]);

  // keep what is not saved yet in the tab's sessionStorage; drop it once it matches the saved verdict
  useEffect(() => {
    if (!draftUser || !canReview) return;
    saveDraftPart(draftUser, c.id, { caseVerdict: dirty ? { verdict: choice, comment } : undefined });
  }, [draftUser, canReview, c.id, dirty, choice, comment]);

  const save = useMutation({
    mutationFn: (verdict: CaseVerdictValue) =>
      api.putCaseVerdict(c.id, { verdict, comment: comment.trim() || null, version: saved?.version ?? 0 }),
    onSuccess: (v) => {
      if (draftUser) saveDraftPart(draftUser, c.id, { caseVerdict: undefined });
      setConflict(false);
      setAskedNormal(false);
      qc.setQueryData<CaseDetail>(keys.case(c.id), (old) =>
        old ? { ...old, case_verdict: v, review_state: 'reviewed', my_review_state: 'reviewed', reviewed: true } : old,
      );
      void qc.invalidateQueries({ queryKey: keys.allCases });
      // a blind read is over: fetch the case again for the other readers' verdicts, which the server now sends
      if (c.other_verdicts_hidden) void qc.invalidateQueries({ queryKey: keys.case(c.id) });
      setErr(null);
      onNotice('Case verdict saved');
      // the case is read: the reader's claim on it goes (the case header then offers "Claim case")
      void releaseClaimAfterVerdict(c.id);
    },
    onError: (e) => {
      onNotice('');
      if (e instanceof ApiError && e.isConflict) {
        setConflict(true);
        setErr(
          'Your case verdict was changed elsewhere in the meantime (another tab or window); the case was reloaded. ' +
            'Your verdict and comment are kept: compare them with the saved verdict and save again.',
        );
        void qc.invalidateQueries({ queryKey: keys.case(c.id) });
      } else {
        setErr(`Case verdict not saved: ${errorMessage(e)}`);
        // the case is gone (deleted meanwhile): fetching it again turns the page into "Case deleted"
        if (e instanceof ApiError && e.status === 404) void qc.invalidateQueries({ queryKey: keys.case(c.id) });
      }
    },
  });

  return (
    <section className="panel" aria-labelledby="case-verdict-title">
      <div className="panel-title-row">
        <h2 id="case-verdict-title">Case verdict</h2>
        <span className="muted small" data-testid="own-case-verdict">
          {ownCaseVerdictText(saved, canReview, others.length)}
        </span>
      </div>
      {c.other_verdicts_hidden && (
        <p className="info-box small" data-testid="blind-read-note">
          {c.other_readers === 1 ? '1 other reader has' : `${c.other_readers} other readers have`} reviewed this case.
          Their verdicts and marked findings are shown once you save your case verdict, so that your reading stays
          independent.
        </p>
      )}
      {others.length > 0 && (
        <div className="other-verdicts" role="group" aria-label="Other readers' case verdicts">
          {others.map((o) => (
            <div key={o.reviewer} className="other-verdict" data-reviewer={o.reviewer}>
              <p className="small">
                <strong>{o.reviewer}</strong>: {caseVerdictText(o.verdict)}
                <span className="muted"> · {formatDateTime(o.updated_at)}</span>
              </p>
              {o.comment && <p className="small other-comment">“{o.comment}”</p>}
            </div>
          ))}
        </div>
      )}
      {!canReview ? (
        <p className="muted small">Only clinicians record case verdicts.</p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            // the button stays focusable while saving (aria-disabled), so a second press lands here: ignore it
            if (!choice || save.isPending) return;
            if (normalConcerns.length > 0 && !askedNormal) {
              setAskedNormal(true);
              return;
            }
            save.mutate(choice);
          }}
        >
          {conflict && dirty && (
            <p className="info-box small" data-testid="case-verdict-conflict">
              Saved meanwhile: {saved ? caseVerdictText(saved.verdict) : 'no verdict'}
              {saved?.comment ? ` · “${saved.comment}”` : ''}
              {saved ? ` · ${formatDateTime(saved.updated_at)}` : ''}. Yours below is not saved yet.{' '}
              <button
                type="button"
                className="link-like"
                onClick={() => {
                  setConflict(false);
                  setErr(null);
                  setChoice(saved?.verdict ?? null);
                  setComment(savedComment);
                }}
              >
                Take the saved verdict
              </button>
            </p>
          )}
          {restored && dirty && !conflict && (
            <p className="info-box small draft-note" data-testid="case-verdict-draft">
              Restored your unsaved case verdict and comment: not saved yet.{' '}
              <button
                type="button"
                className="link-like"
                onClick={() => {
                  setChoice(saved?.verdict ?? null);
                  setComment(savedComment);
                }}
              >
                Discard unsaved case verdict
              </button>
            </p>
          )}
          <div className="segmented" role="radiogroup" aria-label="Case verdict">
            {CASE_VERDICTS.map((v) => (
              <label key={v.value} className={`seg${choice === v.value ? ' on' : ''}`}>
                <input
                  type="radio"
                  name="case-verdict"
                  value={v.value}
                  checked={choice === v.value}
                  onChange={() => setChoice(v.value)}
                />
                <span>{v.text}</span>
              </label>
            ))}
          </div>
          <label className="field">
            <span>Case comment</span>
            <textarea rows={2} value={comment} maxLength={4000} onChange={(e) => setComment(e.target.value)} />
          </label>
          {/* polite and always there: the focus stays on the button, so the question is read out as it appears */}
          <div aria-live="polite">
            {askingNormal && (
              <p
                className="info-box small normal-check"
                id="case-verdict-normal-check"
                data-testid="case-verdict-normal-check"
              >
                Before you save Normal: {normalConcerns.join(' ')} Save Normal anyway, or give the flags your verdict
                first.
              </p>
            )}
          </div>
          <div className="row-gap">
            {/* aria-disabled, not disabled, while saving: a disabled button drops the keyboard focus to the page */}
            <button
              type="submit"
              className="primary"
              disabled={!choice}
              aria-disabled={save.isPending || undefined}
              aria-describedby={askingNormal ? 'case-verdict-normal-check' : undefined}
            >
              {askingNormal ? 'Save Normal anyway' : 'Save case verdict'}
            </button>
            {dirty && saved && <span className="muted small">Changed, not saved</span>}
          </div>
          {err && (
            <div className="error-box" role="alert">
              {err}
            </div>
          )}
        </form>
      )}
    </section>
  );
}
