import { useCallback, useEffect, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { ApiError, errorMessage } from '../api/errors';
import { keys } from '../api/queries';

export const CLAIM_RENEW_MS = 5 * 60_000;
export const REVIEW_TIME_FLUSH_MS = 30_000;

export type ClaimState =
  | { kind: 'idle' }
  | { kind: 'mine'; until: string }
  | { kind: 'released' }
  | { kind: 'other'; message: string }
  | { kind: 'error'; message: string };

/**
 * While a reviewer has a case open: claim it (and keep the claim fresh), and report the seconds it
 * was open and visible. The claim lasts only while the case is open: leaving the case page (another
 * case, another page) gives it up, and so does closing or leaving the tab (`pagehide`, keepalive
 * request); a page restored from the back/forward cache claims again. Paging through cases with
 * `]` therefore leaves none of them claimed. Nothing happens for roles that do not review.
 */
export interface CaseSession {
  claim: ClaimState;
  /** Gives the claim up (and stops renewing it); `claimAgain` takes it back. */
  release: () => Promise<void>;
  claimAgain: () => void;
  busy: boolean;
}

export function useCaseSession(caseId: number, enabled: boolean): CaseSession {
  const qc = useQueryClient();
  const [claim, setClaim] = useState<ClaimState>({ kind: 'idle' });
  const [holding, setHolding] = useState(true);
  const [busy, setBusy] = useState(false);
  const pending = useRef(0);
  // true while the server holds our claim and we have not given it up
  const held = useRef(false);
  // the claim request on its way, so leaving before it answers still releases it
  const inflight = useRef<Promise<void>>(Promise.resolve());

  const release = useCallback(async () => {
    setBusy(true);
    try {
      await api.releaseClaim(caseId);
      held.current = false;
      setHolding(false);
      setClaim({ kind: 'released' });
      void qc.invalidateQueries({ queryKey: keys.case(caseId) });
      void qc.invalidateQueries({ queryKey: keys.allCases });
    } finally {
      setBusy(false);
    }
  }, [caseId, qc]);

  const claimAgain = useCallback(() => setHolding(true), []);

  useEffect(() => {
    if (!enabled || !holding) return;
    let stopped = false;
    const doClaim = async () => {
      try {
        const c = await api.claim(caseId);
        held.current = true;
        if (stopped) return;
        setClaim({ kind: 'mine', until: c.claimed_until });
        void qc.invalidateQueries({ queryKey: keys.allCases });
      } catch (e) {
        if (stopped) return;
        if (e instanceof ApiError && e.isConflict) setClaim({ kind: 'other', message: e.message });
        else setClaim({ kind: 'error', message: errorMessage(e) });
      }
    };
    const start = () => {
      inflight.current = doClaim();
    };
    // the tab closes or navigates away: the request must leave now, so no waiting for one in flight
    const onPageHide = () => {
      if (!held.current) return;
      held.current = false;
      void api.releaseClaimOnLeave(caseId);
    };
    // back from the back/forward cache with the case still open: take the claim again
    const onPageShow = (e: PageTransitionEvent) => {
      if (e.persisted) start();
    };
    start();
    const renew = window.setInterval(start, CLAIM_RENEW_MS);
    window.addEventListener('pagehide', onPageHide);
    window.addEventListener('pageshow', onPageShow);
    return () => {
      stopped = true;
      window.clearInterval(renew);
      window.removeEventListener('pagehide', onPageHide);
      window.removeEventListener('pageshow', onPageShow);
      // leaving the case (or giving up reviewing it): release the claim, also one still being taken
      void inflight.current.then(async () => {
        if (!held.current) return;
        held.current = false;
        if (await api.releaseClaimOnLeave(caseId)) {
          void qc.invalidateQueries({ queryKey: keys.case(caseId) });
          void qc.invalidateQueries({ queryKey: keys.allCases });
        }
      });
    };
  }, [caseId, enabled, holding, qc]);

  useEffect(() => {
    if (!enabled) return;
    let last = Date.now();
    const tick = () => {
      const now = Date.now();
      if (document.visibilityState === 'visible') pending.current += (now - last) / 1000;
      last = now;
    };
    const flush = () => {
      tick();
      const seconds = Math.round(pending.current);
      if (seconds < 1) return;
      pending.current = 0;
      api.reportReviewTime(caseId, seconds).catch(() => undefined);
    };
    const timer = window.setInterval(flush, REVIEW_TIME_FLUSH_MS);
    document.addEventListener('visibilitychange', tick);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', tick);
      flush();
    };
  }, [caseId, enabled]);

  return { claim, release, claimAgain, busy };
}
