import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { ApiError, errorMessage } from '../api/errors';
import { keys } from '../api/queries';
import type { CaseDetail } from '../api/types';
import { formatDateTime } from './format';
import { caseTabs } from './openCaseTabs';
import { lastInputAt, usePresence } from './presence';
import { ReviewClock } from './reviewClock';

export const CLAIM_RENEW_MS = 5 * 60_000;
/** While another reader holds the case: how soon to try again, so the page learns soon that they let it go. */
export const CLAIM_RETRY_MS = 30_000;
export const REVIEW_TIME_FLUSH_MS = 30_000;

export type ClaimState =
  | { kind: 'idle' }
  | { kind: 'mine'; until: string }
  | { kind: 'released' }
  | { kind: 'other'; message: string }
  | { kind: 'error'; message: string };

/**
 * While a reviewer has a case open: claim it (and keep the claim fresh), and report the seconds it
 * was open and visible. The claim lasts only while the case is open and unread (a case the reader has already
 * given a case verdict opens unclaimed): leaving the case page
 * (another case, another page) gives it up, and so does closing or leaving the tab (`pagehide`,
 * keepalive request), saving the case verdict (`releaseClaimAfterVerdict`) and signing out
 * (`prepareSignOut`, before the logout request, which reports the review time then too); a page restored from the
 * back/forward cache claims again. Paging through cases with `]` therefore leaves none of them claimed. Leaving a case that another
 * tab of the same browser still shows (`caseTabs`) leaves the claim to that tab, which keeps renewing it.
 * Nobody at the browser for `AWAY_AFTER_MS` (lib/presence) gives the claim up too, so a case left open on an
 * unattended screen is free for the other readers, and it is claimed again at the next input. Review time counts
 * the page visible with someone at it (`ReviewClock`), so away time is not review time. Nothing happens for
 * roles that do not review.
 */
export interface CaseSession {
  claim: ClaimState;
  /** Gives the claim up (and stops renewing it); `claimAgain` takes it back. */
  release: () => Promise<void>;
  claimAgain: () => void;
  busy: boolean;
}

interface OpenSession {
  caseId: number;
  /** the case was read (verdict saved): give the claim up and show it as released */
  afterVerdict: () => Promise<void>;
  /** the reader signs out: give the claim up now, while the session still authorises the request */
  beforeSignOut: () => Promise<void>;
  /** the logout request failed and the reader stays: show the claim given up for it as released */
  signOutFailed: () => void;
}

/** The case sessions mounted in this tab (normally one: the open case page). */
const openSessions = new Set<OpenSession>();

interface OpenClock {
  /** the reader signs out: report the review time now, while the session still authorises it, and stop the clock */
  beforeSignOut: () => Promise<void>;
  /** the logout request failed and the reader stays: the clock runs again */
  signOutFailed: () => void;
}

/** The review clocks running in this tab (the open case page's). */
const openClocks = new Set<OpenClock>();

/** Releases the reader's claim on a case once its case verdict is saved: the case is read. */
export async function releaseClaimAfterVerdict(caseId: number): Promise<void> {
  await Promise.all([...openSessions].filter((o) => o.caseId === caseId).map((o) => o.afterVerdict()));
}

export const SIGN_OUT_RELEASE_WAIT_MS = 3000;

/**
 * Ends this tab's case sessions for "Sign out", which awaits it before the logout request: reports the review time
 * counted so far and releases every claim. Sent after the logout (as leaving the case page would send them), both
 * would fail with 401 and the review time would be lost. Waits at most `SIGN_OUT_RELEASE_WAIT_MS`, so a hanging
 * request does not keep the reader from signing out.
 */
export async function prepareSignOut(): Promise<void> {
  let timer: number | undefined;
  const cap = new Promise<void>((resolve) => {
    timer = window.setTimeout(resolve, SIGN_OUT_RELEASE_WAIT_MS);
  });
  const ending = [...openClocks, ...openSessions].map((o) => o.beforeSignOut().catch(() => undefined));
  try {
    await Promise.race([Promise.all(ending), cap]);
  } finally {
    window.clearTimeout(timer);
  }
}

/**
 * "Sign out" failed after `prepareSignOut`: the case pages stay, say their claim was given up, and count review time
 * again.
 */
export function signOutFailed(): void {
  for (const o of openSessions) o.signOutFailed();
  for (const o of openClocks) o.signOutFailed();
}

/**
 * "{holder} is reviewing this case (claim until 5 Dec 2026, 11:31 CET)." from the case the page shows,
 * whose `claimed_until` is formatted like every other time in the app; the server's sentence when the
 * case says nothing of a live claim by someone else.
 */
export function otherClaimText(
  serverMessage: string,
  c: Pick<CaseDetail, 'claimed_by' | 'claimed_until'> | undefined,
  now: number = Date.now(),
): string {
  const until = c?.claimed_until ? new Date(c.claimed_until).getTime() : NaN;
  if (!c?.claimed_by || !(until > now)) return serverMessage;
  return `${c.claimed_by} is reviewing this case (claim until ${formatDateTime(c.claimed_until)}).`;
}

export function useCaseSession(caseId: number, enabled: boolean): CaseSession {
  const qc = useQueryClient();
  const [claim, setClaim] = useState<ClaimState>({ kind: 'idle' });
  // the case the page shows (read from the cache only: this observer never fetches), for who holds the
  // claim and until when
  const shown = useQuery({
    queryKey: keys.case(caseId),
    queryFn: ({ signal }) => api.getCase(caseId, signal),
    enabled: false,
  }).data;
  const [holding, setHolding] = useState(true);
  // Claimed only once the page has the case, to know whether the reader has still to read it: a case whose case
  // verdict is in opens unclaimed ("Claim case" takes it all the same), so looking at it again does not
  // keep a second reader out.
  const [caseSeen, setCaseSeen] = useState(false);
  const hasShown = shown !== undefined;
  const readAlready = !!shown?.case_verdict;
  useEffect(() => {
    if (!hasShown || caseSeen) return;
    if (readAlready) {
      setHolding(false);
      setClaim((c) => (c.kind === 'idle' ? { kind: 'released' } : c));
    }
    setCaseSeen(true);
    // decided once, on the case as first loaded: a verdict saved later releases the claim itself (afterVerdict)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [hasShown]);
  const [busy, setBusy] = useState(false);
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
  // A 404 on the open case's background requests: a coordinator deleted it (or the retention period did). Fetching
  // the case again turns the page into "Case not found" with the server's reason, instead of a page that still
  // offers verdicts.
  const goneIf404 = useCallback(
    (e: unknown) => {
      if (e instanceof ApiError && e.status === 404) void qc.invalidateQueries({ queryKey: keys.case(caseId) });
    },
    [caseId, qc],
  );
  const present = usePresence();
  useEffect(() => {
    // given up below (the claim effect's cleanup) while nobody is there; taken again at the next input
    if (!present) setClaim((c) => (c.kind === 'mine' ? { kind: 'released' } : c));
  }, [present]);

  useEffect(() => {
    if (!enabled || !holding || !present || !caseSeen) return;
    let stopped = false;
    let retry: number | undefined;
    const doClaim = async () => {
      window.clearTimeout(retry);
      try {
        const c = await api.claim(caseId);
        held.current = true;
        if (stopped) return;
        setClaim({ kind: 'mine', until: c.claimed_until });
        void qc.invalidateQueries({ queryKey: keys.allCases });
      } catch (e) {
        if (stopped) return;
        goneIf404(e);
        if (e instanceof ApiError && e.isConflict) {
          setClaim({ kind: 'other', message: e.message });
          // their claim ends when they save their verdict or leave: without asking again, this page would say
          // they are reading it until the next renewal, minutes later
          retry = window.setTimeout(start, CLAIM_RETRY_MS);
        } else setClaim({ kind: 'error', message: errorMessage(e) });
      }
    };
    const start = () => {
      inflight.current = doClaim();
    };
    // the tab closes or navigates away: the request must leave now, so no waiting for one in flight
    const onPageHide = () => {
      if (!held.current) return;
      held.current = false;
      if (!caseTabs.openElsewhere(caseId)) void api.releaseClaimOnLeave(caseId);
    };
    // back from the back/forward cache with the case still open: take the claim again
    const onPageShow = (e: PageTransitionEvent) => {
      if (e.persisted) start();
    };
    // saved case verdict: the case is read, so the claim goes (the reader can take it again)
    const afterVerdict = async () => {
      await inflight.current;
      if (stopped || !held.current) return;
      held.current = false;
      if (await api.releaseClaimOnLeave(caseId)) {
        // the case is not fetched again for this (each fetch is a "case.viewed" audit row): only its claim changed
        qc.setQueryData<CaseDetail>(keys.case(caseId), (old) =>
          old ? { ...old, claimed_by: null, claimed_until: null } : old,
        );
        void qc.invalidateQueries({ queryKey: keys.allCases });
        if (stopped) return;
        setHolding(false);
        setClaim({ kind: 'released' });
      } else if (!stopped) {
        held.current = true; // not released: leaving the case tries again
      }
    };
    // signing out: release now and stop renewing; nothing is left for the unmount to send after logout
    let releasedForSignOut = false;
    const beforeSignOut = async () => {
      window.clearInterval(renew);
      await inflight.current;
      if (!held.current) return;
      held.current = false;
      releasedForSignOut = await api.releaseClaimOnLeave(caseId);
    };
    const signOutFailed = () => {
      if (stopped || !releasedForSignOut) return;
      releasedForSignOut = false;
      qc.setQueryData<CaseDetail>(keys.case(caseId), (old) => (old ? { ...old, claimed_by: null, claimed_until: null } : old));
      setHolding(false);
      setClaim({ kind: 'released' });
    };
    start();
    const renew = window.setInterval(start, CLAIM_RENEW_MS);
    const open: OpenSession = { caseId, afterVerdict, beforeSignOut, signOutFailed };
    openSessions.add(open);
    caseTabs.opened(caseId);
    window.addEventListener('pagehide', onPageHide);
    window.addEventListener('pageshow', onPageShow);
    return () => {
      stopped = true;
      window.clearTimeout(retry);
      openSessions.delete(open);
      caseTabs.closed(caseId);
      window.clearInterval(renew);
      window.removeEventListener('pagehide', onPageHide);
      window.removeEventListener('pageshow', onPageShow);
      // leaving the case (or giving up reviewing it): release the claim, also one still being taken, unless
      // another tab of this browser still reads the case under it
      void inflight.current.then(async () => {
        if (!held.current) return;
        held.current = false;
        if (caseTabs.openElsewhere(caseId)) return;
        if (await api.releaseClaimOnLeave(caseId)) {
          void qc.invalidateQueries({ queryKey: keys.case(caseId) });
          void qc.invalidateQueries({ queryKey: keys.allCases });
        }
      });
    };
  }, [caseId, enabled, holding, present, caseSeen, qc, goneIf404]);

  useEffect(() => {
    if (!enabled) return;
    const visible = () => document.visibilityState === 'visible';
    let clock = new ReviewClock(Date.now(), visible(), lastInputAt());
    // stopped for a sign-out: nothing is counted or sent until it fails (after the logout it would get 401)
    let signingOut = false;
    const book = () => {
      if (!signingOut) clock.advance(Date.now(), visible(), lastInputAt());
    };
    const flush = (): Promise<void> | undefined => {
      if (signingOut) return undefined;
      book();
      const seconds = clock.take();
      if (seconds < 1) return undefined;
      return api.reportReviewTime(caseId, seconds).catch(goneIf404);
    };
    const timer = window.setInterval(flush, REVIEW_TIME_FLUSH_MS);
    const open: OpenClock = {
      beforeSignOut: async () => {
        const sent = flush();
        signingOut = true;
        await sent;
      },
      signOutFailed: () => {
        if (!signingOut) return;
        // the time the failed sign-out took is not review time: count afresh from now
        clock = new ReviewClock(Date.now(), visible(), lastInputAt());
        signingOut = false;
      },
    };
    openClocks.add(open);
    document.addEventListener('visibilitychange', book);
    return () => {
      openClocks.delete(open);
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', book);
      void flush();
    };
  }, [caseId, enabled, goneIf404]);

  const shownClaim = useMemo<ClaimState>(
    () => (claim.kind === 'other' ? { kind: 'other', message: otherClaimText(claim.message, shown) } : claim),
    [claim, shown],
  );
  return { claim: shownClaim, release, claimAgain, busy };
}
