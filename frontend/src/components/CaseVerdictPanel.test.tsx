import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderAt } from '../test/render';
import { api } from '../api/client';
import { keys, useCase } from '../api/queries';
import { ApiError } from '../api/errors';
import type { CaseDetail, CaseVerdict, FlagVerdict } from '../api/types';
import { caseDetail, flagOf } from '../test/caseDetail';
import { loadDraft } from '../lib/caseDraft';
import { CaseVerdictPanel } from './CaseVerdictPanel';

afterEach(() => {
  vi.restoreAllMocks();
  sessionStorage.clear();
});

const blind = {
  id: 4,
  case_verdict: null,
  other_case_verdicts: [],
  other_readers: 2,
  other_verdicts_hidden: true,
} as unknown as CaseDetail;

describe('CaseVerdictPanel, blind reading', () => {
  it('says others read the case and that their verdicts come once the reader saved theirs, then fetches them', async () => {
    const put = vi.spyOn(api, 'putCaseVerdict').mockResolvedValue({
      verdict: 'normal',
      comment: null,
      reviewer: 'clin2',
      updated_at: '2026-12-05T10:00:00Z',
      version: 1,
    });
    const { qc } = renderAt(<CaseVerdictPanel c={blind} canReview onNotice={() => {}} />);
    const invalidate = vi.spyOn(qc, 'invalidateQueries');
    expect(screen.getByTestId('blind-read-note')).toHaveTextContent(
      '2 other readers have reviewed this case. Their verdicts and marked findings are shown once you save your case verdict',
    );
    await userEvent.click(screen.getByRole('radio', { name: /Normal/ }));
    await userEvent.click(screen.getByRole('button', { name: /Save case verdict/ }));
    await waitFor(() => expect(put).toHaveBeenCalled());
    await waitFor(() => expect(invalidate).toHaveBeenCalledWith({ queryKey: keys.case(4) }));
  });

  it('has no such note where nothing is withheld', () => {
    renderAt(<CaseVerdictPanel c={{ ...blind, other_verdicts_hidden: false } as CaseDetail} canReview onNotice={() => {}} />);
    expect(screen.queryByTestId('blind-read-note')).not.toBeInTheDocument();
  });
});

/** The panel on the case as the page has it: fetched, and fetched again when the panel invalidates it. */
function PanelOnCase() {
  const q = useCase(5);
  return q.data ? <CaseVerdictPanel c={q.data} canReview onNotice={() => {}} draftUser="clin" /> : null;
}

const verdict = (over: Partial<CaseVerdict>): CaseVerdict => ({
  verdict: 'normal',
  comment: null,
  reviewer: 'clin',
  updated_at: '2026-01-01T10:09:00Z',
  version: 1,
  ...over,
});

describe('CaseVerdictPanel, a save refused with 409', () => {
  it("keeps the reader's verdict, comment and draft, shows the saved verdict beside them, and saves again on it", async () => {
    // the reader's other tab saved "Normal" first
    let fetches = 0;
    vi.spyOn(api, 'getCase').mockImplementation(async () =>
      ++fetches === 1 ? caseDetail() : caseDetail({ case_verdict: verdict({ comment: 'clear' }) }),
    );
    const put = vi
      .spyOn(api, 'putCaseVerdict')
      .mockRejectedValueOnce(new ApiError(409, 'The case verdict was changed meanwhile.'))
      .mockImplementationOnce(async (_id, body) => verdict({ verdict: body.verdict, comment: body.comment ?? null, version: 2 }));
    renderAt(<PanelOnCase />);
    await userEvent.click(await screen.findByRole('radio', { name: 'Abnormal' }));
    const text = 'Ring-enhancing lesion left frontal, 14 mm';
    await userEvent.type(screen.getByLabelText('Case comment'), text);
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('Your verdict and comment are kept');
    await waitFor(() => expect(fetches).toBe(2));
    expect(await screen.findByTestId('case-verdict-conflict')).toHaveTextContent('Saved meanwhile: Normal · “clear”');
    expect(screen.getByLabelText('Case comment')).toHaveValue(text);
    expect(screen.getByRole('radio', { name: 'Abnormal' })).toBeChecked();
    expect(loadDraft('clin', 5).caseVerdict).toEqual({ verdict: 'abnormal', comment: text });

    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    await waitFor(() => expect(put).toHaveBeenLastCalledWith(5, { verdict: 'abnormal', comment: text, version: 1 }));
    await waitFor(() => expect(screen.queryByTestId('case-verdict-conflict')).not.toBeInTheDocument());
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(loadDraft('clin', 5).caseVerdict).toBeUndefined();
  });

  it('takes the saved verdict instead when the reader chooses to', async () => {
    let fetches = 0;
    vi.spyOn(api, 'getCase').mockImplementation(async () => (++fetches === 1 ? caseDetail() : caseDetail({ case_verdict: verdict({}) })));
    vi.spyOn(api, 'putCaseVerdict').mockRejectedValue(new ApiError(409, 'The case verdict was changed meanwhile.'));
    renderAt(<PanelOnCase />);
    await userEvent.click(await screen.findByRole('radio', { name: 'Uncertain' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Take the saved verdict' }));
    expect(screen.getByRole('radio', { name: 'Normal' })).toBeChecked();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(loadDraft('clin', 5).caseVerdict).toBeUndefined();
  });
});

describe('CaseVerdictPanel while saving', () => {
  it('keeps "Save case verdict" focusable (aria-disabled, not disabled) and sends one request however often it is pressed', async () => {
    let finish: (v: CaseVerdict) => void = () => undefined;
    const put = vi.spyOn(api, 'putCaseVerdict').mockImplementation(() => new Promise((r) => (finish = r)));
    // no flags, so "Normal" is saved without a question first
    renderAt(<CaseVerdictPanel c={caseDetail({ flags: [] })} canReview onNotice={() => {}} />);
    await userEvent.click(screen.getByRole('radio', { name: 'Normal' }));
    const saveButton = screen.getByRole('button', { name: 'Save case verdict' });
    saveButton.focus();
    await userEvent.keyboard('{Enter}');
    await waitFor(() => expect(saveButton).toHaveAttribute('aria-disabled', 'true'));
    expect(saveButton).toBeEnabled();
    expect(saveButton).toHaveFocus();
    await userEvent.keyboard('{Enter}');
    expect(put).toHaveBeenCalledTimes(1);
    finish(verdict({}));
    await waitFor(() => expect(saveButton).not.toHaveAttribute('aria-disabled'));
    expect(saveButton).toHaveFocus();
  });
});

/** The viewer's own verdict on a flag. */
const own = (v: FlagVerdict['verdict']): FlagVerdict => ({
  verdict: v,
  reason: null,
  comment: null,
  reviewer: 'clin',
  updated_at: '2026-01-01T10:05:00Z',
  version: 1,
});

function echoCaseVerdict() {
  return vi
    .spyOn(api, 'putCaseVerdict')
    .mockImplementation(async (_id, body) => verdict({ verdict: body.verdict, comment: body.comment ?? null }));
}

describe('CaseVerdictPanel, "Normal" against the reader\'s own flag verdicts', () => {
  it('asks first when the reader accepted a flag as a lesion, and saves on the second press', async () => {
    const put = echoCaseVerdict();
    const c = caseDetail({ flags: [flagOf(51, 1, { verdict: own('reject') }), flagOf(52, 2, { verdict: own('accept') })] });
    renderAt(<CaseVerdictPanel c={c} canReview onNotice={() => {}} />);
    await userEvent.click(screen.getByRole('radio', { name: 'Normal' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    expect(screen.getByTestId('case-verdict-normal-check')).toHaveTextContent(
      'Before you save Normal: You accepted flag 2 as a lesion. Save Normal anyway, or give the flags your verdict first.',
    );
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    const again = screen.getByRole('button', { name: 'Save Normal anyway' });
    expect(again).toHaveAccessibleDescription(/You accepted flag 2 as a lesion/);
    expect(put).not.toHaveBeenCalled();

    await userEvent.click(again);
    await waitFor(() => expect(put).toHaveBeenCalledWith(5, { verdict: 'normal', comment: null, version: 0 }));
    expect(put).toHaveBeenCalledTimes(1);
    expect(await screen.findByRole('button', { name: 'Save case verdict' })).toBeInTheDocument();
    expect(screen.queryByTestId('case-verdict-normal-check')).not.toBeInTheDocument();
  });

  it('asks first when flags have no verdict of the reader, naming them as the flag list does', async () => {
    const put = echoCaseVerdict();
    const c = caseDetail({
      flags: [flagOf(51, 1), flagOf(52, 2, { verdict: own('unsure') }), flagOf(53, 3)],
    });
    renderAt(<CaseVerdictPanel c={c} canReview onNotice={() => {}} />);
    await userEvent.click(screen.getByRole('radio', { name: 'Normal' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    expect(screen.getByTestId('case-verdict-normal-check')).toHaveTextContent(
      '2 flags have no verdict of yours yet (flags 1 and 3).',
    );
    expect(screen.getByRole('button', { name: 'Save Normal anyway' })).toBeInTheDocument();
    expect(put).not.toHaveBeenCalled();
  });

  it('saves Normal at once when the reader rejected every flag', async () => {
    const put = echoCaseVerdict();
    const rejected = flagOf(51, 1, { verdict: own('reject') });
    const first = renderAt(
      <CaseVerdictPanel c={caseDetail({ flags: [rejected, flagOf(52, 2, { verdict: own('reject') })] })} canReview onNotice={() => {}} />,
    );
    await userEvent.click(screen.getByRole('radio', { name: 'Normal' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    await waitFor(() => expect(put).toHaveBeenCalledWith(5, { verdict: 'normal', comment: null, version: 0 }));
    expect(screen.queryByTestId('case-verdict-normal-check')).not.toBeInTheDocument();
    first.unmount();

    // flag 2 accepted instead does ask: the save above passed the check rather than met none
    renderAt(
      <CaseVerdictPanel c={caseDetail({ flags: [rejected, flagOf(52, 2, { verdict: own('accept') })] })} canReview onNotice={() => {}} />,
    );
    await userEvent.click(screen.getByRole('radio', { name: 'Normal' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    expect(screen.getByTestId('case-verdict-normal-check')).toHaveTextContent('You accepted flag 2 as a lesion.');
    expect(put).toHaveBeenCalledTimes(1);
  });

  it('saves Abnormal at once with flags that have no verdict of the reader, where Normal asks', async () => {
    const put = echoCaseVerdict();
    renderAt(<CaseVerdictPanel c={caseDetail()} canReview onNotice={() => {}} />);
    await userEvent.click(screen.getByRole('radio', { name: 'Abnormal' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    await waitFor(() => expect(put).toHaveBeenCalledWith(5, { verdict: 'abnormal', comment: null, version: 0 }));
    expect(screen.queryByTestId('case-verdict-normal-check')).not.toBeInTheDocument();

    await userEvent.click(screen.getByRole('radio', { name: 'Normal' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    expect(screen.getByTestId('case-verdict-normal-check')).toHaveTextContent(
      '2 flags have no verdict of yours yet (flags 1 and 2).',
    );
    expect(put).toHaveBeenCalledTimes(1);
  });

  it('drops the question when the reader changes the choice or the comment, and asks again for Normal', async () => {
    const put = echoCaseVerdict();
    renderAt(<CaseVerdictPanel c={caseDetail()} canReview onNotice={() => {}} />);
    await userEvent.click(screen.getByRole('radio', { name: 'Normal' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    expect(screen.getByTestId('case-verdict-normal-check')).toBeInTheDocument();

    await userEvent.click(screen.getByRole('radio', { name: 'Uncertain' }));
    expect(screen.queryByTestId('case-verdict-normal-check')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Save Normal anyway' })).not.toBeInTheDocument();
    // back on Normal, the question was answered for nothing: the next press asks again rather than saves
    await userEvent.click(screen.getByRole('radio', { name: 'Normal' }));
    expect(screen.queryByTestId('case-verdict-normal-check')).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    expect(screen.getByTestId('case-verdict-normal-check')).toBeInTheDocument();

    await userEvent.type(screen.getByLabelText('Case comment'), 'x');
    expect(screen.queryByTestId('case-verdict-normal-check')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Save case verdict' })).toBeInTheDocument();
    expect(put).not.toHaveBeenCalled();
  });

  it("drops the question once the reader's flag verdicts no longer speak against Normal", async () => {
    vi.spyOn(api, 'getCase').mockResolvedValue(caseDetail());
    const put = echoCaseVerdict();
    const { qc } = renderAt(<PanelOnCase />);
    await userEvent.click(await screen.findByRole('radio', { name: 'Normal' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    expect(screen.getByTestId('case-verdict-normal-check')).toHaveTextContent(
      '2 flags have no verdict of yours yet (flags 1 and 2).',
    );
    // the flag verdicts as the flag list saves them into the case
    const setFlags = async (flags: CaseDetail['flags']) => {
      act(() => qc.setQueryData<CaseDetail>(keys.case(5), (old) => (old ? { ...old, flags } : old)));
      // the query cache tells the panel on the next tick
      await act(() => new Promise((resolve) => setTimeout(resolve, 0)));
    };
    // the reader accepts flag 1: the question follows
    await setFlags([flagOf(51, 1, { verdict: own('accept') }), flagOf(52, 2)]);
    expect(screen.getByTestId('case-verdict-normal-check')).toHaveTextContent(
      'You accepted flag 1 as a lesion. 1 flag has no verdict of yours yet (flag 2).',
    );
    // then rejects both: nothing is left to ask about
    const bothRejected = [flagOf(51, 1, { verdict: own('reject') }), flagOf(52, 2, { verdict: own('reject') })];
    await setFlags(bothRejected);
    expect(screen.queryByTestId('case-verdict-normal-check')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Save case verdict' })).toBeInTheDocument();
    // a contradiction that comes back (the verdict on flag 2 withdrawn elsewhere) is asked about afresh
    await setFlags([bothRejected[0], flagOf(52, 2)]);
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    expect(screen.getByTestId('case-verdict-normal-check')).toHaveTextContent('1 flag has no verdict of yours yet (flag 2).');
    expect(put).not.toHaveBeenCalled();
    await setFlags(bothRejected);
    await userEvent.click(screen.getByRole('button', { name: 'Save case verdict' }));
    await waitFor(() => expect(put).toHaveBeenCalledWith(5, { verdict: 'normal', comment: null, version: 0 }));
  });
});
