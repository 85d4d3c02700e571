import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { CaseDetail, VerdictValue } from '../api/types';
import { keys, useSaveVerdict } from '../api/queries';
import { ApiError, errorMessage } from '../api/errors';
import { reasonUnsaved } from '../components/FlagList';
import { loadDraft, saveDraftPart } from './caseDraft';
import { useWarnBeforeLeaving } from './leaveGuard';

/**
 * The reader's flag verdicts on the case page: reasons typed and not saved yet (kept in the tab's draft, so an
 * expired session loses none of them), a verdict saved with the reason that belongs to it, and a reason edited
 * after its verdict saved on its own. Saves of one flag run one after another, each with the version the one
 * before it left, so a reason saved on leaving its field and a verdict clicked next do not conflict.
 */
export function useFlagVerdicts({
  caseId,
  c,
  user,
  canReview,
  onNotice,
  onError,
}: {
  caseId: number;
  c: CaseDetail | undefined;
  user: string;
  canReview: boolean;
  onNotice: (text: string) => void;
  onError: (text: string | null) => void;
}) {
  const qc = useQueryClient();
  const save = useSaveVerdict();
  // reasons typed and not saved yet (flag id → text), brought back from the tab's draft after an expired session
  const [draftReasons] = useState<Record<number, string>>(() => (canReview ? (loadDraft(user, caseId).reasons ?? {}) : {}));
  const [reasons, setReasons] = useState<Record<number, string>>(draftReasons);
  const reasonsRef = useRef(reasons);
  reasonsRef.current = reasons;
  const flagQueue = useRef(new Map<number, Promise<unknown>>());
  const flags = useMemo(() => c?.flags ?? [], [c]);

  // Keep the unsaved reasons in sessionStorage (an expired session unmounts the page); once the case is known,
  // only those that differ from what is saved, on flags that still exist.
  useEffect(() => {
    if (!canReview || !c) return;
    const keep: Record<number, string> = {};
    for (const f of c.flags) if (reasonUnsaved(f, reasons)) keep[f.id] = reasons[f.id];
    saveDraftPart(user, caseId, { reasons: keep });
  }, [canReview, c, reasons, user, caseId]);
  const restoredReasonFlags = c
    ? c.flags.filter((f) => draftReasons[f.id] !== undefined && reasons[f.id] === draftReasons[f.id] && reasonUnsaved(f, reasons))
    : [];

  /** The flag as the cache has it now (after any save before this one), by id. */
  const currentFlag = useCallback(
    (flagId: number) => qc.getQueryData<CaseDetail>(keys.case(caseId))?.flags.find((x) => x.id === flagId),
    [qc, caseId],
  );

  /** Runs the saves of one flag in order, so each sends the version the one before it left. */
  const enqueue = useCallback(<T,>(flagId: number, job: () => Promise<T>): Promise<T> => {
    const before = flagQueue.current.get(flagId) ?? Promise.resolve();
    const next = before.catch(() => undefined).then(job);
    flagQueue.current.set(flagId, next);
    return next;
  }, []);

  /** Forgets a typed reason once it is saved (unless the reader typed on meanwhile). */
  const dropReason = useCallback((flagId: number, typed: string | undefined) => {
    setReasons((prev) => {
      if (!(flagId in prev) || prev[flagId] !== typed) return prev;
      const next = { ...prev };
      delete next[flagId];
      return next;
    });
  }, []);

  const saveVerdict = useCallback(
    async (i: number, verdict: VerdictValue) => {
      const f0 = flags[i];
      if (!f0 || !c) return;
      onError(null);
      onNotice('');
      await enqueue(f0.id, async () => {
        const f = currentFlag(f0.id) ?? f0;
        const typed = reasonsRef.current[f.id];
        // a reason typed now goes with this verdict; a saved one only stays with the verdict it was given for
        const reason = reasonUnsaved(f, reasonsRef.current)
          ? (typed ?? '').trim() || null
          : f.verdict && f.verdict.verdict === verdict
            ? f.verdict.reason
            : null;
        try {
          await save.mutateAsync({
            caseId: c.id,
            flagId: f.id,
            verdict,
            reason,
            comment: f.verdict?.comment ?? null,
            version: f.verdict?.version ?? 0,
          });
          dropReason(f.id, typed);
          onNotice('Verdict saved');
        } catch (err) {
          if (err instanceof ApiError && err.isConflict) {
            onError(`Someone else changed flag ${f.label} in the meantime; the case was reloaded. Check it and save again.`);
          } else {
            onError(`Verdict for flag ${f.label} not saved: ${errorMessage(err)}`);
            // the flag's case is gone (deleted meanwhile): fetching it again turns the page into "Case deleted"
            if (err instanceof ApiError && err.status === 404) void qc.invalidateQueries({ queryKey: keys.case(caseId) });
          }
        }
      });
    },
    [flags, c, caseId, qc, enqueue, currentFlag, save, dropReason, onNotice, onError],
  );

  /** Saves a reason edited after the flag's verdict (Enter or leaving the field), with that verdict's version. */
  const saveReason = useCallback(
    async (flagId: number) => {
      if (!c) return;
      await enqueue(flagId, async () => {
        const f = currentFlag(flagId);
        const typed = reasonsRef.current[flagId];
        // no verdict yet: the reason goes with it; nothing changed: nothing to send
        if (!f || !f.verdict || typed === undefined) return;
        if (!reasonUnsaved(f, reasonsRef.current)) {
          dropReason(flagId, typed);
          return;
        }
        onError(null);
        try {
          await save.mutateAsync({
            caseId: c.id,
            flagId,
            verdict: f.verdict.verdict,
            reason: typed.trim() || null,
            comment: f.verdict.comment ?? null,
            version: f.verdict.version,
          });
          dropReason(flagId, typed);
          onNotice(`Reason for flag ${f.label} saved`);
        } catch (err) {
          onNotice('');
          if (err instanceof ApiError && err.isConflict) {
            onError(`Someone else changed flag ${f.label} in the meantime; the case was reloaded. Your reason is kept: check it and save again.`);
          } else {
            onError(`Reason for flag ${f.label} not saved: ${errorMessage(err)}`);
          }
        }
      });
    },
    [c, enqueue, currentFlag, save, dropReason, onNotice, onError],
  );

  const savingFlagId = save.isPending ? (save.variables?.flagId ?? null) : null;
  // offline, the save waits for the connection (TanStack Query pauses it) and is sent when it returns: closing
  // the tab meanwhile would lose the verdict, so the browser asks first, as it does for any save on its way
  useWarnBeforeLeaving(save.isPending);
  const waitingForConnection = save.isPending && save.isPaused;
  return { reasons, setReasons, restoredReasonFlags, saveVerdict, saveReason, savingFlagId, waitingForConnection };
}
