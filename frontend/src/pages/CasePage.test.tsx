import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { forwardRef, useEffect, useImperativeHandle } from 'react';
import { renderAt } from '../test/render';
import { api } from '../api/client';
import { ApiError } from '../api/errors';
import type { CaseDetail, Job } from '../api/types';
import type { Readout } from '../components/Viewer';
import { STORAGE_KEY as OVERLAY_KEY } from '../lib/overlay';
import { caseDetail, flagOf, jobOf, mockCasePageCalls } from '../test/caseDetail';

const gotoMM = vi.fn();
const stepSlice = vi.fn();
/** The crosshair as the viewer reports it: where the scan opened until a test places it. */
let reportLocation: (r: Readout) => void = () => {};
const CENTRE: Readout = { mm: [0, -16.5, 6], vox: [96, 96, 64], scan: 10, anomaly: 0, placed: false };

// NiiVue needs WebGL2, which jsdom lacks: stand in for the viewer, keep its imperative handle.
vi.mock('../components/Viewer', () => ({
  Viewer: forwardRef(function FakeViewer(
    props: { caseId: number; withOverlay: boolean; onLocation?: (r: Readout) => void },
    ref,
  ) {
    useImperativeHandle(ref, () => ({ gotoMM, stepSlice }));
    const { onLocation } = props;
    useEffect(() => {
      reportLocation = (r) => onLocation?.(r);
      // as the real viewer does once the scan is drawn
      onLocation?.(CENTRE);
    }, [onLocation]);
    return <div data-testid="viewer" data-overlay={String(props.withOverlay)} />;
  }),
}));

const { default: CasePage } = await import('./CasePage');

const detail = caseDetail;

beforeEach(() => {
  gotoMM.mockReset();
  stepSlice.mockReset();
  mockCasePageCalls();
});
afterEach(() => {
  vi.restoreAllMocks();
  sessionStorage.clear();
  localStorage.clear();
});

type FV = NonNullable<CaseDetail['flags'][number]['verdict']>;
const fv = (over: Partial<FV> = {}): FV => ({
  verdict: 'reject',
  reason: null,
  comment: null,
  reviewer: 'clin',
  updated_at: '2026-01-01T10:05:00Z',
  version: 1,
  ...over,
});

/** putVerdict that answers what it was sent, one version on. */
function echoPut() {
  return vi.spyOn(api, 'putVerdict').mockImplementation(async (_id, body) =>
    fv({ verdict: body.verdict, reason: body.reason ?? null, comment: body.comment ?? null, version: (body.version ?? 0) + 1 }),
  );
}

/** The case with flag 2 rejected by the viewer ("normal tissue", version 1). */
function reviewedFlag2(): CaseDetail {
  const c = detail();
  c.flags[1] = { ...c.flags[1], verdict: fv({ reason: 'normal tissue' }) };
  return c;
}

function open(c: CaseDetail) {
  vi.spyOn(api, 'getCase').mockResolvedValue(c);
  return renderAt(<CasePage />, { path: `/cases/${c.id}`, route: '/cases/:id' });
}

describe('CasePage', () => {
  it('says a checks-only result was not screened for lesions, and shows no maps, flags or model warning', async () => {
    open(
      detail({
        sequence: 't2',
        screening: 'checks',
        triage: 'review',
        score: null,
        threshold: null,
        passes: null,
        flags: [],
        flag_count: 0,
        model: { name: 'itermask3d-rescan-checks', version: '0.1.0', trained: false },
      }),
    );
    const notice = await screen.findByRole('note', { name: 'Not screened for lesions' });
    expect(notice).toHaveTextContent('No model reads T2 scans here');
    expect(screen.getByText('No flags: no lesion search ran on this scan (rescan checks only).')).toBeInTheDocument();
    expect(screen.queryByText(/the model found no anomalous region/)).not.toBeInTheDocument();
    expect(screen.getByTestId('viewer')).toHaveAttribute('data-overlay', 'false');
    expect(screen.queryByText('untrained model')).not.toBeInTheDocument();
    expect(screen.getByText('Rescan checks only')).toBeInTheDocument();
    expect(screen.queryByText('Error threshold')).not.toBeInTheDocument();
    expect(screen.getByText('no lesion search')).toBeInTheDocument(); // the mask control, not "no flags"
    await userEvent.keyboard('a');
    expect(await screen.findByRole('status')).toHaveTextContent('No lesion search ran on this case');
  });

  it('shows no checks-only notice on a screened result', async () => {
    open(detail({ screening: 'lesions' }));
    await screen.findByRole('list', { name: 'Flags' });
    expect(screen.queryByRole('note', { name: 'Not screened for lesions' })).not.toBeInTheDocument();
    expect(screen.getByTestId('viewer')).toHaveAttribute('data-overlay', 'true');
  });

  it('shows the case, the model badge and the flags; claims the case', async () => {
    open(detail());
    expect(await screen.findByRole('heading', { level: 1, name: 'case five' })).toBeInTheDocument();
    expect(screen.getByText('untrained model')).toBeVisible();
    expect(screen.getByText('itermask3d-fast-t1')).toBeInTheDocument();
    const list = screen.getByRole('list', { name: 'Flags' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(2);
    expect(screen.getByRole('link', { name: 'Back to worklist' })).toHaveAttribute('href', '/');
    await waitFor(() => expect(api.claim).toHaveBeenCalledWith(5));
  });

  it('drives the review by keyboard: N selects and jumps, R saves, the item shows the verdict', async () => {
    const put = vi.spyOn(api, 'putVerdict').mockResolvedValue({
      verdict: 'reject',
      reason: null,
      comment: null,
      reviewer: 'clin',
      updated_at: '2026-01-01T10:05:00Z',
      version: 1,
    });
    open(detail());
    await screen.findByRole('list', { name: 'Flags' });
    await userEvent.keyboard('n');
    expect(gotoMM).toHaveBeenLastCalledWith([10, 20, 30]);
    expect(screen.getByRole('status')).toHaveTextContent('Flag 1 of 2 selected'); // said, not only drawn
    await userEvent.keyboard('r');
    await waitFor(() => expect(put).toHaveBeenCalledWith(51, expect.objectContaining({ verdict: 'reject', version: 0 })));
    expect(await screen.findByRole('status')).toHaveTextContent('Verdict saved');
    expect(screen.getAllByRole('listitem')[0]).toHaveTextContent('Rejected');
    await userEvent.keyboard('n');
    expect(gotoMM).toHaveBeenLastCalledWith([-5, 0, 5]);
    await userEvent.keyboard('{ArrowUp}');
    expect(stepSlice).toHaveBeenCalledWith(1);
    // with the image focused too (the viewer's canvas): NiiVue leaves these keys unused
    const canvas = document.body.appendChild(document.createElement('canvas'));
    fireEvent.keyDown(canvas, { key: 'PageDown' });
    expect(stepSlice).toHaveBeenLastCalledWith(-1);
    canvas.remove();
  });

  it('going to a flag lands on its anchor, a point of the flag itself, and on the centroid for older results', async () => {
    const c = detail();
    c.flags[0] = { ...c.flags[0], anchor_mm: [14, 20, 30] };
    open(c);
    await screen.findByRole('list', { name: 'Flags' });
    await userEvent.keyboard('n');
    expect(gotoMM).toHaveBeenLastCalledWith([14, 20, 30]);
    await userEvent.keyboard('n');
    expect(gotoMM).toHaveBeenLastCalledWith([-5, 0, 5]);
  });

  it('clicking a flag moves the crosshair; a verdict button saves that flag', async () => {
    const put = vi.spyOn(api, 'putVerdict').mockResolvedValue({
      verdict: 'accept',
      reason: null,
      comment: null,
      reviewer: 'clin',
      updated_at: '2026-01-01T10:05:00Z',
      version: 1,
    });
    open(detail());
    await userEvent.click(await screen.findByText('Flag 2'));
    expect(gotoMM).toHaveBeenLastCalledWith([-5, 0, 5]);
    await userEvent.click(screen.getByRole('button', { name: 'Accept flag 2' }));
    await waitFor(() => expect(put).toHaveBeenCalledWith(52, expect.objectContaining({ verdict: 'accept' })));
    expect(await screen.findByText('Accepted')).toBeInTheDocument();
  });

  it('asks for a selection before A/R/U', async () => {
    open(detail());
    await screen.findByRole('list', { name: 'Flags' });
    await userEvent.keyboard('a');
    expect(screen.getByRole('status')).toHaveTextContent('Select a flag first');
  });

  it('explains a 409 and reloads the case', async () => {
    vi.spyOn(api, 'putVerdict').mockRejectedValue(new ApiError(409, 'Someone else changed this verdict.'));
    open(detail());
    await screen.findByRole('list', { name: 'Flags' });
    const calls = vi.mocked(api.getCase).mock.calls.length;
    await userEvent.click(screen.getByRole('button', { name: 'Unsure flag 1' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(/someone else changed flag 1/i);
    await waitFor(() => expect(vi.mocked(api.getCase).mock.calls.length).toBeGreaterThan(calls));
  });

  it('opens and closes the shortcut help', async () => {
    open(detail());
    await screen.findByRole('list', { name: 'Flags' });
    await userEvent.keyboard('?');
    expect(screen.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeInTheDocument();
    // review keys are inert while the help is open
    await userEvent.keyboard('n');
    expect(gotoMM).not.toHaveBeenCalled();
    // modal: Tab keeps the focus in it
    expect(screen.getByRole('button', { name: 'Close' })).toHaveFocus();
    await userEvent.tab();
    expect(screen.getByRole('button', { name: 'Close' })).toHaveFocus();
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('warns of an incomplete scan above the viewer with the engine messages and a rescan chip', async () => {
    const gap = '16 mm of slices missing inside the brain (inferior-superior axis, planes 40-47); rescan recommended.';
    const cut = 'The brain is cut off at the last slice of the inferior-superior axis; rescan with full coverage.';
    open(
      detail({
        triage: 'rescan',
        rescan_recommended: true,
        quality: [
          { kind: 'missing_slices', axis: 2, planes: [40, 47], extent_mm: 16, message: gap },
          { kind: 'cut_off', axis: 2, planes: [59, 59], extent_mm: 2, message: cut },
        ],
      }),
    );
    const notice = await screen.findByRole('alert');
    expect(within(notice).getByRole('heading', { name: 'Incomplete scan: rescan recommended' })).toBeInTheDocument();
    const items = within(within(notice).getByRole('list', { name: 'Acquisition problems' })).getAllByRole('listitem');
    expect(items.map((li) => li.textContent)).toEqual([gap, cut]);
    // above the viewer: before it in the page
    expect(notice.compareDocumentPosition(screen.getByTestId('viewer')) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    const chip = screen.getByText('rescan', { selector: '.chip' });
    expect(chip).toHaveClass('triage-rescan');
    expect(screen.getByText('Quality').nextElementSibling).toHaveTextContent('2 acquisition problems: rescan recommended');
  });

  it('calls a complete scan with heavy noise an image artefact, not an incomplete scan', async () => {
    const noise = "Heavy image noise (about 11% of the bright tissue's intensity; normal scans stay under 6%); rescan recommended.";
    open(
      detail({
        triage: 'rescan',
        rescan_recommended: true,
        quality: [{ kind: 'noise', axis: null, planes: null, extent_mm: null, message: noise }],
      }),
    );
    const notice = await screen.findByRole('alert');
    expect(within(notice).getByRole('heading', { name: 'Image artefact: rescan recommended' })).toBeInTheDocument();
    expect(within(notice).getByRole('listitem')).toHaveTextContent(noise);
    expect(screen.queryByText(/Incomplete scan/)).not.toBeInTheDocument();
    expect(screen.getByText('Quality').nextElementSibling).toHaveTextContent('1 acquisition problem: rescan recommended');
  });

  it('calls a blank region, which was never imaged, an incomplete scan', async () => {
    const blank =
      '21 mL inside the brain hold one constant intensity without noise, so they were not imaged (signal lost or ' +
      'overwritten; planes 114-140 of the inferior-superior axis); rescan recommended.';
    open(
      detail({
        triage: 'rescan',
        rescan_recommended: true,
        quality: [{ kind: 'blank_region', axis: 1, planes: [114, 140], extent_mm: 40.5, message: blank }],
      }),
    );
    const notice = await screen.findByRole('alert');
    expect(within(notice).getByRole('heading', { name: 'Incomplete scan: rescan recommended' })).toBeInTheDocument();
    expect(within(notice).getByRole('listitem')).toHaveTextContent(blank);
  });

  it('shows no rescan notice when the scan looks complete', async () => {
    open(detail());
    await screen.findByRole('list', { name: 'Flags' });
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.queryByText(/Incomplete scan/)).not.toBeInTheDocument();
    expect(screen.queryByText('rescan', { selector: '.chip' })).not.toBeInTheDocument();
    expect(screen.getByText('Quality').nextElementSibling).toHaveTextContent('No acquisition problems found');
    expect(screen.getByText('Error threshold').nextElementSibling).toHaveTextContent("0.0300 (this scan's own)");
    // the score says what it measures, on its own scale
    expect(screen.getByText('Score').nextElementSibling).toHaveTextContent(/of the brain flagged/);
    expect(screen.getByText('Passes').nextElementSibling).toHaveTextContent('100');
  });

  it('shows a failed job with its error and a retry', async () => {
    const rerun = vi.spyOn(api, 'rerun').mockResolvedValue({} as never);
    open(detail({ status: 'failed', error: 'The scan is empty.', flags: [], model: null }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Analysis failed. The scan is empty.');
    expect(screen.getByText(/^Model:/)).toHaveTextContent('Model: no result'); // not "pending": nothing is coming
    await userEvent.click(within(alert).getByRole('button', { name: 'Retry analysis' }));
    await waitFor(() => expect(rerun).toHaveBeenCalledWith(5));
    expect(screen.getByTestId('viewer')).toHaveAttribute('data-overlay', 'false');
  });

  it('offers no same-sequence retry for a scan that looks like another sequence, and points to the Runs panel', async () => {
    const said = 'The scan could not be analysed: it looks like a FLAIR scan (...), but it was sent as T1, ...';
    open(detail({ status: 'failed', error: said, failure: 'sequence_mismatch', flags: [], model: null }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('choose its sequence under Runs');
    expect(within(alert).queryByRole('button', { name: 'Retry analysis' })).not.toBeInTheDocument();
    expect(await screen.findByRole('combobox', { name: 'Sequence' })).toBeInTheDocument();
  });

  it('offers no retry when the engine refused the scan itself, and says what to do instead', async () => {
    open(detail({ status: 'failed', error: 'The scan could not be analysed: it contains too little brain (92 mL).',
      retry_can_help: false, flags: [], model: null }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Running it again would fail the same way: upload a corrected scan as a new case.');
    expect(within(alert).queryByRole('button', { name: 'Retry analysis' })).not.toBeInTheDocument();
  });

  it('keeps the earlier result in view when a re-run failed, and says which run it is', async () => {
    open(detail({ status: 'failed', error: 'The worker stopped.', result_run_id: 3, triage: 'urgent' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Analysis failed. The worker stopped.');
    expect(screen.getByText('Showing the result of an earlier run: the newest run failed.')).toBeInTheDocument();
    expect(within(screen.getByRole('list', { name: 'Flags' })).getAllByRole('listitem')).toHaveLength(2);
    expect(screen.getByTestId('viewer')).toHaveAttribute('data-overlay', 'true');
    await act(async () => undefined);
  });

  it("asks before a retry would leave the earlier result's flag verdicts behind", async () => {
    const rerun = vi.spyOn(api, 'rerun').mockResolvedValue({} as never);
    const verdict = { verdict: 'accept', reason: null, comment: null, reviewer: 'clin', updated_at: '2026-01-01T10:05:00Z', version: 1 } as const;
    open(detail({ status: 'failed', error: 'The worker stopped.', result_run_id: 3, flags: [flagOf(51, 1, { verdict })] }));
    const alert = await screen.findByRole('alert');
    await userEvent.click(within(alert).getByRole('button', { name: 'Retry analysis' }));
    expect(alert).toHaveTextContent("The shown run's flags have verdicts (yours on 1 flag).");
    expect(rerun).not.toHaveBeenCalled();
    await userEvent.click(within(alert).getByRole('button', { name: 'Retry analysis anyway' }));
    await waitFor(() => expect(rerun).toHaveBeenCalledWith(5));
  });

  it('shows progress while running and no overlay yet', async () => {
    open(detail({ status: 'running', progress: 40, stage: 'threshold search', flags: [], model: null }));
    expect(await screen.findByText('running 40% · threshold search')).toBeInTheDocument();
    expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '40');
    expect(screen.getByTestId('viewer')).toHaveAttribute('data-overlay', 'false');
    await act(async () => undefined);
  });

  it('releases the claim and can take it again', async () => {
    const release = vi.spyOn(api, 'releaseClaim').mockResolvedValue(undefined);
    open(detail());
    await userEvent.click(await screen.findByRole('button', { name: 'Release claim' }));
    expect(release).toHaveBeenCalledWith(5);
    expect(await screen.findByRole('status')).toHaveTextContent('Claim released');
    expect(screen.getByText('Not claimed')).toBeInTheDocument();
    const claims = vi.mocked(api.claim).mock.calls.length;
    await userEvent.click(screen.getByRole('button', { name: 'Claim case' }));
    await waitFor(() => expect(vi.mocked(api.claim).mock.calls.length).toBe(claims + 1));
    expect(await screen.findByRole('button', { name: 'Release claim' })).toBeInTheDocument();
  });

  it('shows the run history; cancels a queued run and re-runs with a chosen profile', async () => {
    const job = (id: number, status: Job['status'], profile = 'fast') => jobOf(id, status, { model_profile: profile });
    vi.mocked(api.listRuns).mockResolvedValue([job(9, 'queued'), job(8, 'failed'), job(7, 'succeeded')]);
    const cancel = vi.spyOn(api, 'cancelJob').mockResolvedValue(job(9, 'succeeded'));
    open(detail());
    const history = await screen.findByRole('list', { name: 'Run history' });
    await waitFor(() => expect(within(history).getAllByRole('listitem')).toHaveLength(3));
    expect(history).toHaveTextContent('out of memory');
    // a run is queued: no second one
    expect(screen.getByRole('button', { name: 'Re-run' })).toBeDisabled();
    vi.mocked(api.listRuns).mockResolvedValue([job(8, 'failed'), job(7, 'succeeded')]);
    await userEvent.click(within(history).getByRole('button', { name: 'Cancel run' }));
    expect(cancel).toHaveBeenCalledWith(9);
    expect(await screen.findByRole('status')).toHaveTextContent('Run 3 cancelled'); // the case's third run (job 9)

    const rerun = vi.spyOn(api, 'rerun').mockResolvedValue(job(10, 'queued', 'paper'));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Re-run' })).toBeEnabled());
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Model profile' }), 'paper');
    await userEvent.click(screen.getByRole('button', { name: 'Re-run' }));
    expect(rerun).toHaveBeenCalledWith(5, 'paper', null);
    expect(await screen.findByRole('status')).toHaveTextContent('Run 3 queued (paper)'); // job 10 (job 9 left the mock)
  });

  it('offers the flag mask modes and window/level controls', async () => {
    open(detail());
    const mask = await screen.findByRole('combobox', { name: 'Flag mask' });
    expect(Array.from((mask as HTMLSelectElement).options).map((o) => o.text)).toEqual(['Fill', 'Outline', 'Hidden']);
    await userEvent.selectOptions(mask, 'fill');
    expect(localStorage.getItem('neurotriage.maskMode.v1')).toBe('fill');
    // no scan drawn by the stand-in viewer: window/level wait for it
    expect(screen.getByRole('spinbutton', { name: 'Window' })).toBeDisabled();
    expect(screen.getByRole('spinbutton', { name: 'Level' })).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Reset window' })).toBeDisabled();
  });

  it("shows other readers' flag and case verdicts, and words the viewer's own state as theirs", async () => {
    const c = detail();
    c.flags[0] = { ...c.flags[0], other_verdicts: [fv({ reviewer: 'clin1', verdict: 'reject', reason: 'vessel' })] };
    c.other_case_verdicts = [
      { verdict: 'abnormal', comment: 'two lesions', reviewer: 'clin1', updated_at: '2026-01-01T10:06:00Z', version: 1 },
    ];
    open(c);
    const list = await screen.findByRole('list', { name: 'Flags' });
    expect(screen.getByTestId('flags-reviewed')).toHaveTextContent('0/2 reviewed by you');
    const [one, two] = within(list).getAllByRole('listitem');
    expect(one).toHaveTextContent('clin1: Rejected · vessel');
    expect(one).toHaveTextContent('You have not reviewed this flag');
    expect(two).toHaveTextContent('You have not reviewed this flag');
    const others = screen.getByRole('group', { name: "Other readers' case verdicts" });
    expect(others).toHaveTextContent('clin1: Abnormal');
    expect(others).toHaveTextContent('“two lesions”');
    expect(screen.getByTestId('own-case-verdict')).toHaveTextContent('Your verdict: none yet');
    expect(screen.queryByText('Not reviewed')).not.toBeInTheDocument();
    expect(screen.queryByText('None yet')).not.toBeInTheDocument();
  });

  it("lets a coordinator see the readers' verdicts read-only", async () => {
    vi.mocked(api.me).mockResolvedValue({ id: 3, username: 'coord', roles: ['coordinator'], password_change_required: false });
    const c = detail();
    c.flags[0] = { ...c.flags[0], other_verdicts: [fv({ reviewer: 'clin1', verdict: 'accept' })] };
    c.other_case_verdicts = [
      { verdict: 'normal', comment: null, reviewer: 'clin1', updated_at: '2026-01-01T10:06:00Z', version: 1 },
    ];
    open(c);
    const list = await screen.findByRole('list', { name: 'Flags' });
    expect(screen.getByTestId('flags-reviewed')).toHaveTextContent('1/2 reviewed by readers');
    const [one, two] = within(list).getAllByRole('listitem');
    expect(one).toHaveTextContent('Reviewed by 1 reader');
    expect(one).toHaveTextContent('clin1: Accepted');
    expect(two).toHaveTextContent('No reader has reviewed this flag');
    expect(screen.getByRole('button', { name: 'Accept flag 1' })).toBeDisabled();
    expect(screen.getByRole('group', { name: "Other readers' case verdicts" })).toHaveTextContent('clin1: Normal');
    expect(screen.getByTestId('own-case-verdict')).toHaveTextContent('1 reader gave a case verdict');
    expect(screen.queryByRole('radiogroup', { name: 'Case verdict' })).not.toBeInTheDocument();
    expect(api.claim).not.toHaveBeenCalled();
  });

  it('releases its claim when the reader leaves the case, pages to the next case or the tab goes away', async () => {
    vi.mocked(api.listCases).mockResolvedValue({
      items: [{ id: 5 }, { id: 6 }] as never,
      total: 2,
      page: 1,
      page_size: 100,
    });
    const getCase = vi.spyOn(api, 'getCase').mockImplementation(async (id) => detail({ id, label: `case ${id}` }));
    renderAt(<CasePage />, { path: '/cases/5', route: '/cases/:id' });
    await screen.findByRole('button', { name: 'Release claim' });
    const leave = vi.mocked(api.releaseClaimOnLeave);
    // the tab is hidden for good (closed, navigated away): a keepalive release
    act(() => {
      window.dispatchEvent(new Event('pagehide'));
    });
    expect(leave).toHaveBeenCalledWith(5);
    expect(leave).toHaveBeenCalledTimes(1);
    // restored from the back/forward cache: claims again
    act(() => {
      const e = new Event('pageshow') as PageTransitionEvent;
      Object.defineProperty(e, 'persisted', { value: true });
      window.dispatchEvent(e);
    });
    await waitFor(() => expect(api.claim).toHaveBeenCalledTimes(2));

    await waitFor(() => expect(screen.getByRole('button', { name: 'Next case' })).toBeEnabled());
    await userEvent.click(screen.getByRole('button', { name: 'Next case' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'case 6' })).toBeInTheDocument();
    await waitFor(() => expect(leave).toHaveBeenCalledTimes(2));
    expect(leave).toHaveBeenLastCalledWith(5);
    await waitFor(() => expect(api.claim).toHaveBeenLastCalledWith(6));
    expect(getCase).toHaveBeenCalledWith(6, expect.anything());

    await screen.findByRole('button', { name: 'Release claim' });
    await userEvent.click(screen.getByRole('link', { name: 'Back to worklist' }));
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/$/);
    await waitFor(() => expect(leave).toHaveBeenLastCalledWith(6));
  });

  it('releases a claim that answers only after the reader has left; not one they already released', async () => {
    let answer: (v: { claimed_by: string; claimed_until: string }) => void = () => undefined;
    vi.mocked(api.claim).mockImplementation(() => new Promise((r) => (answer = r)));
    const { unmount } = open(detail());
    await screen.findByRole('list', { name: 'Flags' });
    await waitFor(() => expect(api.claim).toHaveBeenCalled());
    unmount();
    expect(api.releaseClaimOnLeave).not.toHaveBeenCalled();
    await act(async () => answer({ claimed_by: 'clin', claimed_until: '2026-01-01T11:00:00Z' }));
    await waitFor(() => expect(api.releaseClaimOnLeave).toHaveBeenCalledWith(5));

    vi.mocked(api.releaseClaimOnLeave).mockClear();
    vi.mocked(api.claim).mockResolvedValue({ claimed_by: 'clin', claimed_until: '2026-01-01T11:00:00Z' });
    vi.spyOn(api, 'releaseClaim').mockResolvedValue(undefined);
    const second = open(detail());
    await userEvent.click(await screen.findByRole('button', { name: 'Release claim' }));
    await screen.findByRole('button', { name: 'Claim case' });
    second.unmount();
    await act(async () => undefined);
    expect(api.releaseClaimOnLeave).not.toHaveBeenCalled();
  });

  it('keeps an unsaved case verdict and comment across a lost page (expired session) and clears it on save', async () => {
    const first = open(detail());
    await userEvent.click(await screen.findByRole('radio', { name: 'Normal' }));
    await userEvent.type(screen.getByLabelText('Case comment'), 'no lesion');
    first.unmount(); // the 401 bridge navigates to the login page: the panel's state is gone

    const put = vi.spyOn(api, 'putCaseVerdict').mockImplementation(async (_id, body) => ({
      verdict: body.verdict,
      comment: body.comment ?? null,
      reviewer: 'clin',
      updated_at: '2026-01-01T10:10:00Z',
      version: 1,
    }));
    open(detail());
    expect(await screen.findByTestId('case-verdict-draft')).toHaveTextContent(
      'Restored your unsaved case verdict and comment: not saved yet.',
    );
    expect(screen.getByRole('radio', { name: 'Normal' })).toBeChecked();
    expect(screen.getByLabelText('Case comment')).toHaveValue('no lesion');
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    // the case's flags have no verdict of the reader's: "Normal" is asked about once
    await userEvent.click(screen.getByRole('button', { name: 'Save Normal anyway' }));
    await waitFor(() => expect(put).toHaveBeenCalledWith(5, { verdict: 'normal', comment: 'no lesion', version: 0 }));
    expect(await screen.findByRole('status')).toHaveTextContent('Case verdict saved');
    expect(screen.queryByTestId('case-verdict-draft')).not.toBeInTheDocument();
    expect(screen.getByTestId('own-case-verdict')).toHaveTextContent('Your verdict: Normal');
    expect(Object.keys(sessionStorage).filter((k) => k.startsWith('neurotriage.draft'))).toEqual([]);
  });

  it('keeps unsaved flag reasons across a lost page and saves them with the verdict', async () => {
    const first = open(detail());
    await userEvent.click(await screen.findByRole('button', { name: 'Go to flag 1' }));
    await userEvent.type(screen.getByRole('textbox', { name: 'Reason for flag 1' }), 'vessel');
    first.unmount();

    const put = echoPut();
    open(detail());
    expect(await screen.findByTestId('reasons-draft')).toHaveTextContent('Restored your unsaved reason for flag 1');
    expect(screen.getByTestId('unsaved-reason-1')).toHaveTextContent('vessel');
    await userEvent.click(screen.getByRole('button', { name: 'Reject flag 1' }));
    await waitFor(() => expect(put).toHaveBeenCalledWith(51, expect.objectContaining({ verdict: 'reject', reason: 'vessel' })));
    await waitFor(() => expect(screen.queryByTestId('reasons-draft')).not.toBeInTheDocument());
    expect(Object.keys(sessionStorage).filter((k) => k.startsWith('neurotriage.draft'))).toEqual([]);
  });

  it('ignores shortcut letters while focus is on a case-verdict radio', async () => {
    const put = echoPut();
    open(reviewedFlag2());
    await userEvent.click(await screen.findByRole('button', { name: 'Go to flag 2' }));
    await userEvent.click(screen.getByRole('radio', { name: 'Uncertain' }));
    expect(screen.getByRole('radio', { name: 'Uncertain' })).toHaveFocus();
    await userEvent.keyboard('a');
    await act(async () => undefined);
    expect(put).not.toHaveBeenCalled();
    expect(screen.getAllByRole('listitem')[1]).toHaveTextContent('Rejected');
  });

  it('does not carry a reason over to a different verdict', async () => {
    const put = echoPut();
    open(reviewedFlag2());
    await userEvent.click(await screen.findByRole('button', { name: 'Go to flag 2' }));
    await userEvent.keyboard('r'); // same verdict again: its reason stays
    await waitFor(() => expect(put).toHaveBeenLastCalledWith(52, expect.objectContaining({ verdict: 'reject', reason: 'normal tissue', version: 1 })));
    await userEvent.keyboard('a');
    await waitFor(() => expect(put).toHaveBeenLastCalledWith(52, expect.objectContaining({ verdict: 'accept', reason: null, version: 2 })));
    expect(screen.getAllByRole('listitem')[1]).not.toHaveTextContent('normal tissue');
  });

  it('saves a reason edited after the verdict when the field is left, with the verdict and its version', async () => {
    const put = echoPut();
    open(reviewedFlag2());
    await userEvent.click(await screen.findByRole('button', { name: 'Go to flag 2' }));
    const field = screen.getByRole('textbox', { name: 'Reason for flag 2' });
    await userEvent.type(field, ', calcified');
    expect(screen.getByTestId('unsaved-reason-2')).toBeInTheDocument();
    await userEvent.tab();
    await waitFor(() =>
      expect(put).toHaveBeenCalledWith(52, {
        verdict: 'reject',
        reason: 'normal tissue, calcified',
        comment: null,
        version: 1,
      }),
    );
    expect(await screen.findByRole('status')).toHaveTextContent('Reason for flag 2 saved');
    expect(screen.queryByTestId('unsaved-reason-2')).not.toBeInTheDocument();
    expect(screen.getAllByRole('listitem')[1]).toHaveTextContent('Your verdict · normal tissue, calcified');
    // Enter saves too; a failed save keeps the text and says so
    put.mockRejectedValueOnce(new ApiError(500, 'Server error.'));
    await userEvent.type(field, '!{Enter}');
    expect(await screen.findByRole('alert')).toHaveTextContent('Reason for flag 2 not saved: Server error.');
    expect(field).toHaveValue('normal tissue, calcified!');
    expect(screen.getByTestId('unsaved-reason-2')).toBeInTheDocument();
  });

  it('moves the viewer to a flag whose verdict button is clicked, as "Go to flag" does', async () => {
    echoPut();
    open(detail());
    await userEvent.click(await screen.findByRole('button', { name: 'Go to flag 2' }));
    expect(gotoMM).toHaveBeenLastCalledWith([-5, 0, 5]);
    await userEvent.click(screen.getByRole('button', { name: 'Unsure flag 1' }));
    expect(gotoMM).toHaveBeenLastCalledWith([10, 20, 30]);
    expect(screen.getAllByRole('listitem')[0]).toHaveAttribute('aria-current', 'true');
    // the selected flag's own verdict does not pull the viewer back to its centroid
    const calls = gotoMM.mock.calls.length;
    await userEvent.click(screen.getByRole('button', { name: 'Accept flag 1' }));
    expect(gotoMM.mock.calls.length).toBe(calls);
  });
});

describe('CasePage: shortcuts after a click on a viewer control', () => {
  it('keeps the review keys working after the reader clicks Show overlay, the threshold slider or 3D render', async () => {
    open(detail());
    await screen.findByRole('list', { name: 'Flags' });
    const overlay = screen.getByRole('checkbox', { name: /Show overlay/ });
    await userEvent.click(overlay);
    expect(overlay).toHaveFocus();
    expect(overlay).not.toBeChecked();
    await userEvent.keyboard('n');
    expect(gotoMM).toHaveBeenLastCalledWith([10, 20, 30]);
    await userEvent.keyboard('o');
    expect(overlay).toBeChecked();
    await userEvent.keyboard('d');
    expect(screen.getByRole('button', { name: '3D render' })).toHaveAttribute('aria-pressed', 'true');

    const threshold = screen.getByRole('slider', { name: 'Overlay threshold' });
    act(() => threshold.focus());
    await userEvent.keyboard('n');
    expect(gotoMM).toHaveBeenLastCalledWith([-5, 0, 5]);
    // the slider's own keys stay the slider's: ↑ does not step the slice from there
    await userEvent.keyboard('{ArrowUp}');
    expect(stepSlice).not.toHaveBeenCalled();

    const render3d = screen.getByRole('button', { name: '3D render' });
    await userEvent.click(render3d);
    expect(render3d).toHaveAttribute('aria-pressed', 'false');
    await userEvent.keyboard('d');
    expect(render3d).toHaveAttribute('aria-pressed', 'true');
  });
});

describe('CasePage: overlay settings from one case to the next', () => {
  it('opens every case with the overlay shown, though O hid it on the last one', async () => {
    const first = open(detail());
    await screen.findByRole('list', { name: 'Flags' });
    await userEvent.keyboard('o');
    expect(screen.getByRole('checkbox', { name: /Show overlay/ })).not.toBeChecked();
    first.unmount();
    open(detail({ id: 6, label: 'case six' }));
    await screen.findByRole('heading', { level: 1, name: 'case six' });
    expect(screen.getByRole('checkbox', { name: /Show overlay/ })).toBeChecked();
  });

  it('says plainly that a saved threshold is not the default, and resets it in one click', async () => {
    localStorage.setItem(OVERLAY_KEY, JSON.stringify({ opacity: 0.6, threshold: 0.5, colormap: 'warm' }));
    open(detail());
    await screen.findByRole('list', { name: 'Flags' });
    const threshold = screen.getByRole('slider', { name: 'Overlay threshold' });
    expect(threshold).toHaveValue('50');
    expect(screen.getByTestId('overlay-differences')).toHaveTextContent('Not the default: Threshold 0.50 (default 0.20).');
    expect(threshold).toHaveAccessibleDescription(/Threshold 0\.50 \(default 0\.20\)/);
    await userEvent.click(screen.getByRole('button', { name: 'Reset overlay' }));
    expect(threshold).toHaveValue('20');
    expect(screen.queryByTestId('overlay-differences')).not.toBeInTheDocument();
    expect(JSON.parse(localStorage.getItem(OVERLAY_KEY)!)).toMatchObject({ threshold: 0.2 });
  });
});

describe('CasePage: a case without anomaly maps', () => {
  it.each([
    ['a checks-only result', { sequence: 't2', screening: 'checks', flags: [], flag_count: 0 }, 'No anomaly map: not screened for lesions'],
    ['a failed analysis with no earlier result', { status: 'failed', error: 'The worker stopped.', flags: [], model: null }, 'No anomaly map: the analysis did not finish'],
    ['a queued analysis', { status: 'queued', progress: 0, flags: [], model: null }, 'No anomaly map until the analysis finishes'],
  ] as [string, Partial<CaseDetail>, string][])('disables the overlay controls and says why, for %s', async (_what, over, reason) => {
    open(detail(over));
    const overlay = await screen.findByRole('checkbox', { name: /Show overlay/ });
    expect(screen.getByTestId('viewer')).toHaveAttribute('data-overlay', 'false');
    for (const control of [
      overlay,
      screen.getByRole('slider', { name: 'Overlay opacity' }),
      screen.getByRole('slider', { name: 'Overlay threshold' }),
      screen.getByRole('combobox', { name: 'Colormap' }),
    ]) {
      expect(control).toBeDisabled();
      expect(control).toHaveAccessibleDescription(reason);
    }
    await userEvent.keyboard('o');
    expect(screen.getAllByRole('status')[0]).toHaveTextContent('This case has no anomaly map to show or hide');
  });
});

describe('CasePage: marking a missed finding', () => {
  it('marks nothing at the crosshair where the scan opened; marks where the reader clicked', async () => {
    const add = vi.spyOn(api, 'addFinding').mockResolvedValue({
      id: 93, point_mm: [12, 4, 6], point_voxel: [108, 116, 64], radius_mm: 0, comment: 'subtle', reviewer: 'clin',
      created_at: '2026-01-01T10:00:00Z',
    });
    open(detail());
    await screen.findByRole('list', { name: 'Flags' });
    const mark = screen.getByRole('button', { name: 'Mark finding at crosshair' });
    expect(mark).toBeDisabled();
    expect(mark).toHaveAccessibleDescription('Click in the image to place the crosshair first.');
    // Tab to the comment, type, Enter: no finding at the volume centre
    await userEvent.type(screen.getByLabelText('Finding comment'), 'subtle{Enter}');
    await userEvent.click(screen.getByRole('heading', { name: 'Missed findings' }));
    await userEvent.keyboard('m');
    expect(screen.getAllByRole('status')[0]).toHaveTextContent('Click in the image to place the crosshair first.');
    expect(add).not.toHaveBeenCalled();

    act(() => reportLocation({ ...CENTRE, mm: [12, 4, 6], vox: [108, 116, 64], placed: true }));
    expect(mark).toBeEnabled();
    await userEvent.keyboard('m');
    await waitFor(() =>
      expect(add).toHaveBeenCalledWith(5, expect.objectContaining({ point_mm: [12, 4, 6], comment: 'subtle' })),
    );
  });
});

describe('CasePage, a case deleted while open', () => {
  it("turns into 'Case deleted' with the server's account once a background request finds the case gone", async () => {
    const gone = new ApiError(404, 'No case 5: it does not exist, or it was deleted.');
    const said = 'Case 5 was deleted by a study coordinator.';
    const deleted = new ApiError(404, said, said, { detail: said, deleted_at: '2026-12-06T10:15:00+00:00' });
    const getCase = vi.spyOn(api, 'getCase').mockResolvedValueOnce(detail({ id: 5 })).mockRejectedValue(deleted);
    let answerClaim: (e: unknown) => void = () => undefined;
    vi.mocked(api.claim).mockReturnValue(new Promise((_resolve, reject) => (answerClaim = reject)));
    renderAt(<CasePage />, { path: '/cases/5', route: '/cases/:id' });
    expect(await screen.findByRole('heading', { name: 'case five' })).toBeInTheDocument();
    act(() => answerClaim(gone)); // a coordinator deleted it meanwhile
    expect(await screen.findByRole('heading', { name: 'Case deleted' })).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent('Case 5 was deleted by a study coordinator, on ');
    expect(getCase).toHaveBeenCalledTimes(2);
    expect(screen.queryByRole('button', { name: /Save case verdict/ })).not.toBeInTheDocument();
  });

  it("turns into 'Case deleted' when saving a verdict finds the case gone", async () => {
    const said = 'Case 5 was deleted by a study coordinator.';
    const deleted = new ApiError(404, said, said, { detail: said, deleted_at: '2026-12-06T10:15:00+00:00' });
    const getCase = vi.spyOn(api, 'getCase').mockResolvedValueOnce(detail({ id: 5 })).mockRejectedValue(deleted);
    vi.spyOn(api, 'putCaseVerdict').mockRejectedValue(new ApiError(404, 'No case 5: it does not exist, or it was deleted.'));
    renderAt(<CasePage />, { path: '/cases/5', route: '/cases/:id' });
    await userEvent.click(await screen.findByRole('radio', { name: 'Abnormal' }));
    await userEvent.click(screen.getByRole('button', { name: /Save case verdict/ }));
    expect(await screen.findByRole('heading', { name: 'Case deleted' })).toBeInTheDocument();
    expect(getCase).toHaveBeenCalledTimes(2);
  });
});
