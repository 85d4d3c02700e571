import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { forwardRef, useImperativeHandle } from 'react';
import { onlineManager } from '@tanstack/react-query';
import { renderAt } from '../test/render';
import { api } from '../api/client';
import type { CaseDetail } from '../api/types';
import { caseDetail, mockCasePageCalls } from '../test/caseDetail';
import { watchChanges } from '../test/liveRegion';

// NiiVue needs WebGL2, which jsdom lacks: stand in for the viewer, keep its imperative handle.
vi.mock('../components/Viewer', () => ({
  Viewer: forwardRef(function FakeViewer(_props: { caseId: number }, ref) {
    useImperativeHandle(ref, () => ({ gotoMM: vi.fn(), stepSlice: vi.fn() }));
    return <div data-testid="viewer" />;
  }),
}));

const { default: CasePage } = await import('./CasePage');

type FlagVerdict = NonNullable<CaseDetail['flags'][number]['verdict']>;

beforeEach(() => mockCasePageCalls());
afterEach(() => {
  act(() => onlineManager.setOnline(true));
  vi.restoreAllMocks();
  sessionStorage.clear();
});

function open() {
  vi.spyOn(api, 'getCase').mockResolvedValue(caseDetail());
  return renderAt(<CasePage />, { path: '/cases/5', route: '/cases/:id' });
}

describe('CasePage: the status line', () => {
  it('changes again for the second of two flag verdicts saved one after the other', async () => {
    const answers: ((v: FlagVerdict) => void)[] = [];
    vi.spyOn(api, 'putVerdict').mockImplementation(() => new Promise<FlagVerdict>((resolve) => answers.push(resolve)));
    const saved = (version: number): FlagVerdict => ({
      verdict: 'reject',
      reason: null,
      comment: null,
      reviewer: 'clin',
      updated_at: '2026-01-01T10:05:00Z',
      version,
    });
    open();
    await userEvent.click(await screen.findByRole('button', { name: 'Reject flag 1' }));
    await userEvent.click(screen.getByRole('button', { name: 'Reject flag 2' }));
    await waitFor(() => expect(answers).toHaveLength(2));
    const status = screen.getByRole('status');

    await act(async () => answers[0](saved(1)));
    await waitFor(() => expect(status).toHaveTextContent('Verdict saved'));
    const changes = watchChanges(status);
    await act(async () => answers[1](saved(1)));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Reject flag 2' })).toHaveAttribute('aria-pressed', 'true'));
    expect(status).toHaveTextContent('Verdict saved');
    expect(changes.some((m) => m.addedNodes.length > 0)).toBe(true);
  });

  it('changes again when the case verdict is saved a second time', async () => {
    vi.spyOn(api, 'releaseClaim').mockResolvedValue(undefined);
    let version = 0;
    vi.spyOn(api, 'putCaseVerdict').mockImplementation(async (_id, body) => ({
      verdict: body.verdict,
      comment: body.comment ?? null,
      reviewer: 'clin',
      updated_at: '2026-01-01T10:10:00Z',
      version: ++version,
    }));
    open();
    await userEvent.click(await screen.findByRole('radio', { name: 'Abnormal' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    const status = screen.getByRole('status');
    await waitFor(() => expect(status).toHaveTextContent('Case verdict saved'));

    const changes = watchChanges(status);
    await userEvent.type(screen.getByRole('textbox', { name: 'Case comment' }), 'see flag 1');
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    await waitFor(() => expect(api.putCaseVerdict).toHaveBeenCalledTimes(2));
    await waitFor(() => expect(changes.some((m) => m.addedNodes.length > 0)).toBe(true));
    expect(status).toHaveTextContent('Case verdict saved');
  });
});

/** Whether closing the tab now would ask first. */
function closingAsks(): boolean {
  const event = new Event('beforeunload', { cancelable: true });
  window.dispatchEvent(event);
  return event.defaultPrevented;
}

describe('CasePage offline', () => {
  it('says a verdict waits for the connection, asks before the tab closes, and saves it once back online', async () => {
    const saved: FlagVerdict = {
      verdict: 'reject', reason: null, comment: null, reviewer: 'clin', updated_at: '2026-01-01T10:05:00Z', version: 1,
    };
    const put = vi.spyOn(api, 'putVerdict').mockResolvedValue(saved);
    open();
    const flags = await screen.findByRole('list', { name: 'Flags' });
    expect(closingAsks()).toBe(false);

    act(() => onlineManager.setOnline(false));
    await userEvent.click(screen.getByRole('button', { name: 'Reject flag 1' }));
    const first = within(flags).getAllByRole('listitem')[0];
    await waitFor(() => expect(first).toHaveTextContent('Offline: waiting to save'));
    expect(put).not.toHaveBeenCalled();
    expect(closingAsks()).toBe(true);

    act(() => onlineManager.setOnline(true));
    await waitFor(() => expect(put).toHaveBeenCalledTimes(1));
    expect(await screen.findByRole('status')).toHaveTextContent('Verdict saved');
    await waitFor(() => expect(closingAsks()).toBe(false));
  });
});
