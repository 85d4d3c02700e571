import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { forwardRef, useImperativeHandle } from 'react';
import { renderAt } from '../test/render';
import { caseDetail, caseListOf, mockCasePageCalls } from '../test/caseDetail';
import { api } from '../api/client';
import { ApiError } from '../api/errors';
import { lastWorklist, rememberWorklist } from '../lib/worklistMemory';

// NiiVue needs WebGL2, which jsdom lacks: stand in for the viewer, keep its imperative handle.
vi.mock('../components/Viewer', () => ({
  Viewer: forwardRef(function FakeViewer(_props: { caseId: number }, ref) {
    useImperativeHandle(ref, () => ({ gotoMM: vi.fn(), stepSlice: vi.fn() }));
    return <div data-testid="viewer" />;
  }),
}));

const { default: CasePage } = await import('./CasePage');

beforeEach(() => {
  mockCasePageCalls();
  vi.spyOn(api, 'getCase').mockImplementation(async (id) => caseDetail({ id, label: `case ${id}` }));
  vi.spyOn(api, 'releaseClaim').mockResolvedValue(undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
  sessionStorage.clear();
});

function openCase(id: number) {
  return renderAt(<CasePage />, { path: `/cases/${id}`, route: '/cases/:id' });
}

const location = () => screen.getByTestId('location').textContent;

describe('CasePage: previous / next case', () => {
  it('steps on past a case deleted since the worklist was read', async () => {
    rememberWorklist({ search: '', query: { page: 1, page_size: 25 }, ids: [4, 5, 6], total: 3 });
    const said = 'Case 5 was deleted by a study coordinator.';
    vi.mocked(api.getCase).mockImplementation(async (id) => {
      if (id === 5) throw new ApiError(404, said, said, { detail: said, deleted_at: '2026-12-06T10:15:00+00:00' });
      return caseDetail({ id, label: `case ${id}` });
    });
    openCase(5);
    expect(await screen.findByRole('heading', { name: 'Case deleted' })).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Next case' }));
    expect(location()).toBe('/cases/6');
  });

  it('steps on from a case that left the "Unreviewed only" worklist when its verdict was saved', async () => {
    rememberWorklist({ search: '?unreviewed=1', query: { page: 1, page_size: 25, unreviewed: true }, ids: [4, 5, 6], total: 3 });
    let saved = false;
    // the server lists only cases without a case verdict: 5 goes once it is saved
    vi.mocked(api.listCases).mockImplementation(async () => caseListOf(saved ? [4, 6] : [4, 5, 6]));
    vi.spyOn(api, 'putCaseVerdict').mockImplementation(async (_id, body) => {
      saved = true;
      return { verdict: body.verdict, comment: null, reviewer: 'clin', updated_at: '2026-01-01T10:10:00Z', version: 1 };
    });
    openCase(5);
    await userEvent.click(await screen.findByRole('radio', { name: 'Abnormal' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    expect(await screen.findByRole('status')).toHaveTextContent('Case verdict saved');

    expect(screen.getByRole('button', { name: 'Next case' })).toBeEnabled();
    expect(screen.getByRole('button', { name: 'Previous case' })).toBeEnabled();
    (document.activeElement as HTMLElement | null)?.blur();
    await userEvent.keyboard(']');
    expect(await screen.findByRole('heading', { level: 1, name: 'case 6' })).toBeInTheDocument();
    expect(location()).toBe('/cases/6');
    await userEvent.keyboard('[['); // '[[' types one '[' (a lone '[' opens a key descriptor)
    expect(await screen.findByRole('heading', { level: 1, name: 'case 5' })).toBeInTheDocument();
    // the steps came from the page the reader saw, not from a list fetched again
    expect(api.listCases).not.toHaveBeenCalled();
  });

  it('steps through a case from worklist page 5 (rank above 100), fetching page 4 at its first row', async () => {
    const all = Array.from({ length: 125 }, (_, i) => 1000 + i);
    const onPage = (page: number) => all.slice((page - 1) * 25, page * 25);
    rememberWorklist({ search: '?triage=review&page=5', query: { page: 5, page_size: 25, triage: 'review' }, ids: onPage(5), total: 125 });
    vi.mocked(api.listCases).mockImplementation(async (q = {}) => caseListOf(onPage(q.page ?? 1), 125, q.page ?? 1));

    const first = openCase(1110);
    await screen.findByRole('heading', { level: 1, name: 'case 1110' });
    await userEvent.click(screen.getByRole('button', { name: 'Next case' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'case 1111' })).toBeInTheDocument();
    first.unmount();

    // the last case of the worklist: nothing after it
    const last = openCase(1124);
    await screen.findByRole('heading', { level: 1, name: 'case 1124' });
    expect(screen.getByRole('button', { name: 'Next case' })).toBeDisabled();
    last.unmount();

    openCase(1100);
    await screen.findByRole('heading', { level: 1, name: 'case 1100' });
    await userEvent.click(screen.getByRole('button', { name: 'Previous case' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'case 1099' })).toBeInTheDocument();
    expect(api.listCases).toHaveBeenCalledWith({ page: 4, page_size: 25, triage: 'review' });
    // the reader is on page 4 now: stepping and "Back to worklist" go on from there
    expect(lastWorklist()).toMatchObject({ search: '?triage=review&page=4', ids: onPage(4) });
    expect(screen.getByRole('link', { name: 'Back to worklist' })).toHaveAttribute('href', '/?triage=review&page=4');
  });

  it('pages on with ] and [ after the reader clicked Show overlay or moved the threshold slider', async () => {
    rememberWorklist({ search: '', query: { page: 1, page_size: 25 }, ids: [4, 5, 6], total: 3 });
    openCase(5);
    await screen.findByRole('heading', { level: 1, name: 'case 5' });
    await userEvent.click(screen.getByRole('checkbox', { name: /Show overlay/ }));
    await userEvent.keyboard(']');
    expect(await screen.findByRole('heading', { level: 1, name: 'case 6' })).toBeInTheDocument();
    act(() => screen.getByRole('slider', { name: 'Overlay threshold' }).focus());
    await userEvent.keyboard('[['); // "[" escaped for user-event
    expect(await screen.findByRole('heading', { level: 1, name: 'case 5' })).toBeInTheDocument();
  });

  it('goes on to the cases that moved up when the whole remembered page has been reviewed', async () => {
    rememberWorklist({ search: '?unreviewed=1', query: { page: 1, page_size: 3, unreviewed: true }, ids: [1, 2, 3], total: 5 });
    // 1, 2 and 3 were reviewed: 4 and 5 are page 1 now, and page 2 is empty
    vi.mocked(api.listCases).mockImplementation(async (q = {}) => caseListOf(q.page === 1 ? [4, 5] : [], 2, q.page ?? 1, 3));
    openCase(3);
    await screen.findByRole('heading', { level: 1, name: 'case 3' });
    await userEvent.click(screen.getByRole('button', { name: 'Next case' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'case 4' })).toBeInTheDocument();
  });

  it('says so when the worklist has no next case any more', async () => {
    rememberWorklist({ search: '', query: { page: 1, page_size: 2 }, ids: [1, 2], total: 3 });
    // the third case was deleted from the list meanwhile
    vi.mocked(api.listCases).mockImplementation(async (q = {}) => caseListOf(q.page === 1 ? [1, 2] : [], 2, q.page ?? 1, 2));
    openCase(2);
    await screen.findByRole('heading', { level: 1, name: 'case 2' });
    await userEvent.click(screen.getByRole('button', { name: 'Next case' }));
    expect(await screen.findByRole('status')).toHaveTextContent('No next case in the worklist');
    expect(location()).toBe('/cases/2');
  });
});

describe('CasePage: back to the worklist', () => {
  it('returns to the last worklist address, filters and page included', async () => {
    rememberWorklist({
      search: '?triage=urgent&unreviewed=1&page=2',
      query: { page: 2, page_size: 25, triage: 'urgent', unreviewed: true },
      ids: [7, 8, 9],
      total: 30,
    });
    openCase(8);
    await screen.findByRole('heading', { level: 1, name: 'case 8' });
    await userEvent.click(screen.getByRole('link', { name: 'Back to worklist' }));
    expect(location()).toBe('/?triage=urgent&unreviewed=1&page=2');
  });
});

describe('CasePage: ids the API refuses', () => {
  it('calls an id beyond the API\'s 32-bit ids not found without asking the server', async () => {
    openCase(99999999999);
    expect(await screen.findByRole('heading', { name: 'Page not found' })).toBeInTheDocument();
    expect(api.getCase).not.toHaveBeenCalled();
  });

  it('calls a case the server refuses with 422 not found, with no Retry that could never work', async () => {
    vi.mocked(api.getCase).mockRejectedValue(new ApiError(422, 'case_id: Input should be less than or equal to 2147483647'));
    openCase(77);
    expect(await screen.findByRole('heading', { name: 'Case not found' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument();
  });

  it('still offers Retry when the server failed or could not be reached', async () => {
    vi.mocked(api.getCase).mockRejectedValue(new ApiError(503, 'The server is busy.'));
    openCase(77);
    expect(await screen.findByRole('heading', { name: 'Could not load the case' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Retry' })).toBeInTheDocument();
  });
});
