import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { renderAt } from '../test/render';
import { api } from '../api/client';
import { ApiError } from '../api/errors';
import { keys } from '../api/queries';
import type { CaseDetail, Me } from '../api/types';
import { AppHeader } from '../components/AppHeader';
import { CaseVerdictPanel } from '../components/CaseVerdictPanel';
import { formatDateTime } from './format';
import { CHANNEL_NAME, type CaseTabs, caseTabs, createCaseTabs } from './openCaseTabs';
import { AWAY_AFTER_MS, resetPresence } from './presence';
import { CLAIM_RETRY_MS, otherClaimText, useCaseSession } from './useCaseSession';

const theCase = {
  id: 5,
  label: 'case five',
  claimed_by: null,
  claimed_until: null,
  case_verdict: null,
  other_case_verdicts: [],
} as unknown as CaseDetail;

/** The claim part of a case page: what the hook says, plus the case verdict form. */
function CaseHarness({ withVerdict = false, shown = theCase }: { withVerdict?: boolean; shown?: CaseDetail }) {
  // the case as the page loads it (the session claims only once it knows the case)
  useQuery({ queryKey: keys.case(5), queryFn: async () => shown, staleTime: Infinity });
  const session = useCaseSession(5, true);
  const claim = session.claim;
  return (
    <div>
      <p data-testid="claim">{claim.kind === 'other' ? claim.message : claim.kind}</p>
      <button type="button" onClick={session.claimAgain}>
        Claim case
      </button>
      {withVerdict && <CaseVerdictPanel c={theCase} canReview onNotice={() => undefined} />}
    </div>
  );
}

beforeEach(() => {
  vi.spyOn(api, 'claim').mockResolvedValue({ claimed_by: 'clin', claimed_until: '2026-01-01T11:00:00Z' });
  vi.spyOn(api, 'reportReviewTime').mockResolvedValue(undefined);
  vi.spyOn(api, 'releaseClaimOnLeave').mockResolvedValue(true);
  vi.spyOn(api, 'listCases').mockResolvedValue({ items: [], total: 0, page: 1, page_size: 25 });
});
afterEach(() => vi.restoreAllMocks());

describe('claim released once the case is read', () => {
  it('opens a case the reader has already read unclaimed, so a second reader is not kept out; Claim case takes it', async () => {
    const read = { ...theCase, case_verdict: { verdict: 'normal', comment: null, reviewer: 'clin', updated_at: '2026-01-01T10:06:00Z', version: 1 } };
    renderAt(<CaseHarness shown={read as CaseDetail} />);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('released'));
    expect(api.claim).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole('button', { name: 'Claim case' }));
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
    expect(api.claim).toHaveBeenCalledTimes(1);
  });

  it('gives the claim up when the reader saves the case verdict', async () => {
    vi.spyOn(api, 'putCaseVerdict').mockResolvedValue({
      verdict: 'normal', comment: null, reviewer: 'clin', updated_at: '2026-01-01T10:06:00Z', version: 1,
    });
    renderAt(<CaseHarness withVerdict />);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
    expect(api.releaseClaimOnLeave).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole('radio', { name: 'Normal' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    await waitFor(() => expect(api.releaseClaimOnLeave).toHaveBeenCalledWith(5));
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('released'));
    // no second claim taken behind the reader's back, and nothing sent again when they leave
    expect(api.claim).toHaveBeenCalledTimes(1);
  });

  it('keeps the claim when saving fails', async () => {
    vi.spyOn(api, 'putCaseVerdict').mockRejectedValue(new ApiError(500, 'The server had an internal error.'));
    renderAt(<CaseHarness withVerdict />);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
    await userEvent.click(screen.getByRole('radio', { name: 'Normal' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Case verdict not saved');
    expect(api.releaseClaimOnLeave).not.toHaveBeenCalled();
    expect(screen.getByTestId('claim')).toHaveTextContent('mine');
  });
});

describe('nobody at the browser', () => {
  beforeEach(() => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    resetPresence();
  });
  afterEach(() => {
    act(() => resetPresence()); // someone is back, for the tests that follow
    vi.useRealTimers();
  });

  it('gives the claim up, sends nothing while away, and claims again at the next input', async () => {
    renderAt(<CaseHarness />);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
    await act(() => vi.advanceTimersByTimeAsync(AWAY_AFTER_MS + 20_000));
    await waitFor(() => expect(api.releaseClaimOnLeave).toHaveBeenCalledWith(5));
    expect(screen.getByTestId('claim')).toHaveTextContent('released');
    const claims = vi.mocked(api.claim).mock.calls.length;
    vi.mocked(api.reportReviewTime).mockClear();
    // half an hour away: no renewal, no review time, so the session can lapse and the case is free for others
    await act(() => vi.advanceTimersByTimeAsync(30 * 60_000));
    expect(api.claim).toHaveBeenCalledTimes(claims);
    expect(api.reportReviewTime).not.toHaveBeenCalled();
    act(() => window.dispatchEvent(new KeyboardEvent('keydown', { key: 'j' })));
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
    expect(api.claim).toHaveBeenCalledTimes(claims + 1);
  });

  it('reports review time up to the last input only, none of the minutes before the absence was noticed', async () => {
    renderAt(<CaseHarness />);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
    await act(() => vi.advanceTimersByTimeAsync(90_000));
    act(() => window.dispatchEvent(new KeyboardEvent('keydown', { key: 'j' })));
    await act(() => vi.advanceTimersByTimeAsync(AWAY_AFTER_MS + 60_000));
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('released'));
    const reported = vi.mocked(api.reportReviewTime).mock.calls.reduce((sum, [, seconds]) => sum + seconds, 0);
    expect(reported).toBeGreaterThanOrEqual(89);
    expect(reported).toBeLessThanOrEqual(91);
  });
});

/** The case (5) open under the app header, whose "Sign out" the tests press. */
function renderCaseWithHeader(me: Me) {
  return renderAt(
    <>
      <AppHeader me={me} />
      <Routes>
        <Route path="/cases/5" element={<CaseHarness />} />
        <Route path="*" element={null} />
      </Routes>
    </>,
    { path: '/cases/5' },
  );
}

const CLIN: Me = { id: 1, username: 'clin', roles: ['clinician'], password_change_required: false };

/** What a sign-out sends, in the order sent: the claim released ("release") and the logout request ("logout"). */
function recordSignOut(): string[] {
  const order: string[] = [];
  vi.mocked(api.releaseClaimOnLeave).mockImplementation(async () => {
    order.push('release');
    return true;
  });
  vi.spyOn(api, 'logout').mockImplementation(async () => {
    order.push('logout');
  });
  return order;
}

describe('sign out from a case page', () => {
  it('releases the claim before the logout request, and not again after it', async () => {
    const order = recordSignOut();
    renderCaseWithHeader(CLIN);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/login'));
    expect(screen.queryByTestId('claim')).not.toBeInTheDocument();
    await act(async () => {
      await new Promise((r) => setTimeout(r, 0));
    });
    expect(order).toEqual(['release', 'logout']);
    expect(api.releaseClaimOnLeave).toHaveBeenCalledWith(5);
  });

  it('shows the claim given up for a sign-out that then failed as released, the case still open', async () => {
    vi.spyOn(api, 'logout').mockRejectedValue(new ApiError(0, 'Cannot reach the server.'));
    renderCaseWithHeader(CLIN);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('you are still signed in');
    expect(api.releaseClaimOnLeave).toHaveBeenCalledWith(5);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('released'));
    expect(screen.getByTestId('location')).toHaveTextContent('/cases/5');
  });

  it('signs out at once when no case is open', async () => {
    const logout = vi.spyOn(api, 'logout').mockResolvedValue(undefined);
    renderAt(<AppHeader me={{ ...CLIN, username: 'coord', roles: ['coordinator'] }} />);
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(logout).toHaveBeenCalled());
    expect(api.releaseClaimOnLeave).not.toHaveBeenCalled();
  });
});

describe('sign out from a case page: review time', () => {
  beforeEach(() => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    resetPresence();
  });
  afterEach(() => {
    act(() => resetPresence());
    vi.useRealTimers();
  });
  const me = CLIN;

  it('reports the time read so far before the logout request, and sends nothing after it', async () => {
    const order = recordSignOut();
    vi.mocked(api.reportReviewTime).mockImplementation(async (_id, seconds) => {
      order.push(`review-time ${seconds}`);
    });
    renderCaseWithHeader(me);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
    // 20 s on the case, less than a report period, the reader at the keyboard
    await act(() => vi.advanceTimersByTimeAsync(20_000));
    act(() => window.dispatchEvent(new KeyboardEvent('keydown', { key: 'j' })));
    await userEvent.setup({ advanceTimers: vi.advanceTimersByTime }).click(screen.getByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent('/login'));
    await act(() => vi.advanceTimersByTimeAsync(2 * 60_000));
    const logoutAt = order.indexOf('logout');
    const reports = order.filter((o) => o.startsWith('review-time'));
    expect(reports).toHaveLength(1);
    expect(order.indexOf(reports[0])).toBeLessThan(logoutAt);
    expect(Number(reports[0].split(' ')[1])).toBeGreaterThanOrEqual(19);
    expect(order.slice(logoutAt + 1)).toEqual([]);
  });

  it('counts review time again when the sign-out failed and the reader stays on the case', async () => {
    vi.spyOn(api, 'logout').mockRejectedValue(new ApiError(0, 'Cannot reach the server.'));
    renderCaseWithHeader(me);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
    await userEvent.setup({ advanceTimers: vi.advanceTimersByTime }).click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('you are still signed in');
    vi.mocked(api.reportReviewTime).mockClear();
    await act(() => vi.advanceTimersByTimeAsync(25_000));
    act(() => window.dispatchEvent(new KeyboardEvent('keydown', { key: 'j' })));
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    await waitFor(() => expect(api.reportReviewTime).toHaveBeenCalled());
    expect(vi.mocked(api.reportReviewTime).mock.calls[0][1]).toBeGreaterThanOrEqual(24);
  });
});

describe('leaving a case', () => {
  const otherTabs: CaseTabs[] = [];
  afterEach(() => {
    for (const tab of otherTabs.splice(0)) tab.dispose();
  });
  function anotherTabShowing(caseId: number): CaseTabs {
    const tab = createCaseTabs(new BroadcastChannel(CHANNEL_NAME));
    otherTabs.push(tab);
    tab.opened(caseId);
    return tab;
  }

  it('gives the claim up', async () => {
    const { unmount } = renderAt(<CaseHarness />);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
    unmount();
    await waitFor(() => expect(api.releaseClaimOnLeave).toHaveBeenCalledWith(5));
  });

  it('leaves the claim to another tab of the browser that still shows the case', async () => {
    anotherTabShowing(5);
    await waitFor(() => expect(caseTabs.openElsewhere(5)).toBe(true));
    const { unmount } = renderAt(<CaseHarness />);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
    unmount();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(api.releaseClaimOnLeave).not.toHaveBeenCalled();
  });

  it('closing the tab leaves the claim to another tab that shows the case, and releases it otherwise', async () => {
    const other = anotherTabShowing(5);
    await waitFor(() => expect(caseTabs.openElsewhere(5)).toBe(true));
    const { unmount } = renderAt(<CaseHarness />);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
    window.dispatchEvent(new Event('pagehide'));
    expect(api.releaseClaimOnLeave).not.toHaveBeenCalled();
    unmount();
    other.closed(5);
    await waitFor(() => expect(caseTabs.openElsewhere(5)).toBe(false));
    renderAt(<CaseHarness />);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
    window.dispatchEvent(new Event('pagehide'));
    expect(api.releaseClaimOnLeave).toHaveBeenCalledWith(5);
  });
});

describe("another reader's claim", () => {
  const until = '2026-12-05T11:31:00Z';
  const now = Date.parse('2026-12-05T11:00:00Z');

  it('says until when in the app own date format, from the case, not the server sentence', () => {
    expect(otherClaimText('clin2 is reviewing this case.', { claimed_by: 'clin2', claimed_until: until }, now)).toBe(
      `clin2 is reviewing this case (claim until ${formatDateTime(until)}).`,
    );
    expect(formatDateTime(until, 'UTC')).toBe('5 Dec 2026, 11:31 UTC');
    // the case does not (or no longer) show a live claim: the server's sentence as it is
    expect(otherClaimText('clin2 is reviewing this case.', { claimed_by: null, claimed_until: null }, now)).toBe(
      'clin2 is reviewing this case.',
    );
    expect(otherClaimText('x', { claimed_by: 'clin2', claimed_until: '2026-12-05T10:00:00Z' }, now)).toBe('x');
    expect(otherClaimText('x', undefined, now)).toBe('x');
  });

  it('asks again every half minute while another reader holds it, so the page learns when they let it go', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      vi.mocked(api.claim).mockRejectedValueOnce(new ApiError(409, 'clin2 is reviewing this case.'));
      renderAt(<CaseHarness />);
      await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('clin2 is reviewing this case.'));
      // clin2 saved their verdict meanwhile, which released the case: the next try takes it
      await act(() => vi.advanceTimersByTimeAsync(CLAIM_RETRY_MS));
      await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('mine'));
      expect(api.claim).toHaveBeenCalledTimes(2);
      // once held, it is renewed at the usual pace, not every half minute
      await act(() => vi.advanceTimersByTimeAsync(3 * CLAIM_RETRY_MS));
      expect(api.claim).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('shows the claim of the case the page has loaded', async () => {
    const later = new Date(Date.now() + 20 * 60_000).toISOString();
    vi.mocked(api.claim).mockRejectedValue(new ApiError(409, 'clin2 is reviewing this case.'));
    const { qc } = renderAt(<CaseHarness />);
    await waitFor(() => expect(screen.getByTestId('claim')).toHaveTextContent('clin2 is reviewing this case.'));
    act(() => qc.setQueryData(keys.case(5), { ...theCase, claimed_by: 'clin2', claimed_until: later }));
    await waitFor(() =>
      expect(screen.getByTestId('claim')).toHaveTextContent(
        `clin2 is reviewing this case (claim until ${formatDateTime(later)}).`,
      ),
    );
  });
});
