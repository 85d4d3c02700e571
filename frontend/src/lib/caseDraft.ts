/**
 * Unsaved review input of one reader on one case, kept in sessionStorage until it is saved: the case verdict
 * picked and its comment, the flag reasons typed, and the comment of a missed finding not marked yet. A session that expires mid-review sends the reader to the
 * login page, which unmounts the case page and drops its state; the draft brings the input back when they return
 * to the case. sessionStorage is per tab and ends with it; the key carries the username, so another person
 * signing in on the same tab never sees it.
 */
import type { CaseVerdictValue } from '../api/types';

export interface CaseVerdictDraft {
  verdict: CaseVerdictValue | null;
  comment: string;
}

export interface CaseDraft {
  /** the case verdict picked and not saved, with its comment */
  caseVerdict?: CaseVerdictDraft;
  /** flag id → a reason typed and not saved */
  reasons?: Record<number, string>;
  /** the comment typed for a missed finding that is not marked yet */
  findingComment?: string;
}

const PREFIX = 'neurotriage.draft.v1';
const CASE_VERDICTS: readonly string[] = ['normal', 'abnormal', 'artefact_rescan', 'uncertain'];

export function draftKey(user: string, caseId: number): string {
  return `${PREFIX}:${encodeURIComponent(user)}:${caseId}`;
}

function storage(): Storage | null {
  try {
    return typeof window === 'undefined' ? null : window.sessionStorage;
  } catch {
    return null; // storage blocked: no drafts, nothing else breaks
  }
}

/** The reader's draft for the case; `{}` when there is none (or it is unreadable). */
export function loadDraft(user: string, caseId: number): CaseDraft {
  const raw = storage()?.getItem(draftKey(user, caseId));
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    if (!v || typeof v !== 'object') return {};
    const out: CaseDraft = {};
    const cv = (v as CaseDraft).caseVerdict;
    if (cv && typeof cv === 'object' && typeof cv.comment === 'string') {
      const verdict = cv.verdict && CASE_VERDICTS.includes(cv.verdict) ? cv.verdict : null;
      out.caseVerdict = { verdict, comment: cv.comment };
    }
    const rs = (v as CaseDraft).reasons;
    if (rs && typeof rs === 'object') {
      const reasons: Record<number, string> = {};
      for (const [k, r] of Object.entries(rs)) {
        const id = Number(k);
        if (Number.isInteger(id) && typeof r === 'string') reasons[id] = r;
      }
      if (Object.keys(reasons).length) out.reasons = reasons;
    }
    const fc = (v as CaseDraft).findingComment;
    if (typeof fc === 'string' && fc) out.findingComment = fc;
    return out;
  } catch {
    return {};
  }
}

/**
 * Replaces the given parts of the draft; a part given as undefined (or an empty reasons map or comment) is removed, and the
 * whole entry goes when nothing is left.
 */
export function saveDraftPart(user: string, caseId: number, part: Partial<CaseDraft>): void {
  const s = storage();
  if (!s) return;
  const next: CaseDraft = { ...loadDraft(user, caseId) };
  if ('caseVerdict' in part) {
    if (part.caseVerdict) next.caseVerdict = part.caseVerdict;
    else delete next.caseVerdict;
  }
  if ('reasons' in part) {
    if (part.reasons && Object.keys(part.reasons).length) next.reasons = part.reasons;
    else delete next.reasons;
  }
  if ('findingComment' in part) {
    if (part.findingComment) next.findingComment = part.findingComment;
    else delete next.findingComment;
  }
  try {
    if (next.caseVerdict || next.reasons || next.findingComment) s.setItem(draftKey(user, caseId), JSON.stringify(next));
    else s.removeItem(draftKey(user, caseId));
  } catch {
    /* storage full or blocked: the draft is a convenience */
  }
}

/** Forgets every draft in this tab (a deliberate sign-out leaves no review text behind on the workstation). */
export function clearDrafts(): void {
  const s = storage();
  if (!s) return;
  try {
    const keys: string[] = [];
    for (let i = 0; i < s.length; i++) {
      const k = s.key(i);
      if (k && k.startsWith(`${PREFIX}:`)) keys.push(k);
    }
    for (const k of keys) s.removeItem(k);
  } catch {
    /* blocked storage holds nothing of ours */
  }
}
