import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { forwardRef, useImperativeHandle } from 'react';
import { renderAt } from '../test/render';
import { caseDetail, jobOf, mockCasePageCalls } from '../test/caseDetail';
import { api } from '../api/client';
import type { Job } from '../api/types';

// NiiVue needs WebGL2, which jsdom lacks: stand in for the viewer, keep its imperative handle.
vi.mock('../components/Viewer', () => ({
  Viewer: forwardRef(function FakeViewer(_props: { caseId: number }, ref) {
    useImperativeHandle(ref, () => ({ gotoMM: vi.fn(), stepSlice: vi.fn() }));
    return <div data-testid="viewer" />;
  }),
}));

const { default: CasePage } = await import('./CasePage');

const job = (id: number, status: Job['status']): Job => jobOf(id, status, { created_at: `2026-01-01T10:0${id - 6}:00Z` });

beforeEach(() => {
  mockCasePageCalls();
  vi.mocked(api.listRuns).mockResolvedValue([job(7, 'succeeded')]);
  vi.spyOn(api, 'getCase').mockResolvedValue(caseDetail());
  vi.spyOn(api, 'queue').mockResolvedValue({ queued: 1, running: 0, oldest_queued_at: null, workers: [] } as never);
  vi.spyOn(api, 'models').mockRejectedValue(new Error('not needed here'));
});
afterEach(() => {
  vi.restoreAllMocks();
  sessionStorage.clear();
});

describe('CasePage: the notice of a re-run', () => {
  it.each(['succeeded', 'failed'] as const)('says the run was queued, and stops saying it once the run has %s', async (end) => {
    const { qc } = renderAt(<CasePage />, { path: '/cases/5', route: '/cases/:id' });
    const history = await screen.findByRole('list', { name: 'Run history' });
    await waitFor(() => expect(within(history).getAllByRole('listitem')).toHaveLength(1));

    vi.spyOn(api, 'rerun').mockResolvedValue(job(8, 'queued'));
    vi.mocked(api.getCase).mockResolvedValue(caseDetail({ status: 'queued', progress: 0 }));
    vi.mocked(api.listRuns).mockResolvedValue([job(8, 'queued'), job(7, 'succeeded')]);
    await userEvent.click(screen.getByRole('button', { name: 'Re-run' }));
    const status = () => screen.getByText((_, el) => el?.getAttribute('role') === 'status' && el.classList.contains('save-status'));
    await waitFor(() => expect(status()).toHaveTextContent('Run 2 queued (fast)'));
    // the page sees the run waiting: the notice holds
    await waitFor(() => expect(history.querySelector('[data-run-id="8"]')).toHaveAttribute('data-status', 'queued'));
    expect(status()).toHaveTextContent('Run 2 queued (fast)');

    vi.mocked(api.getCase).mockResolvedValue(caseDetail({ status: end, error: end === 'failed' ? 'out of memory' : null }));
    vi.mocked(api.listRuns).mockResolvedValue([job(8, end), job(7, 'succeeded')]);
    await act(() => qc.invalidateQueries());
    await waitFor(() => expect(history.querySelector('[data-run-id="8"]')).toHaveAttribute('data-status', end));
    await waitFor(() => expect(status()).toHaveTextContent(/^$/));
  });
});
