import { describe, expect, it, vi } from 'vitest';
import { useState } from 'react';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FlagList } from './FlagList';
import type { Flag } from '../api/types';
import { flagOf } from '../test/caseDetail';

// the values the list is checked to show
const flag = (id: number, label: number, verdict: Flag['verdict'] = null): Flag =>
  flagOf(id, label, { verdict, volume_ml: 3.36, centroid_mm: [10, -20.5, 30], max_anomaly: 0.97 });

function setup(canReview = true) {
  const onSelect = vi.fn();
  const onVerdict = vi.fn();
  render(
    <>
      <h2 id="t">Flags</h2>
      <FlagList
        flags={[
          flag(11, 1),
          flag(12, 2, {
            verdict: 'reject',
            reason: 'vessel',
            comment: null,
            reviewer: 'clin',
            updated_at: '2026-01-01T00:00:00Z',
            version: 1,
          }),
        ]}
        selected={-1}
        savingFlagId={null}
        reasons={{}}
        onSelect={onSelect}
        onVerdict={onVerdict}
        onReason={() => undefined}
        labelledBy="t"
        canReview={canReview}
      />
    </>,
  );
  return { onSelect, onVerdict };
}

describe('FlagList', () => {
  it('is a list named Flags with one item per flag and the facts', () => {
    setup();
    const list = screen.getByRole('list', { name: 'Flags' });
    const items = within(list).getAllByRole('listitem');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent('Flag 1');
    expect(items[0]).toHaveTextContent('3.36 mL');
    expect(items[0]).toHaveTextContent('(10.0, -20.5, 30.0) mm');
    expect(items[0]).toHaveTextContent('0.97');
    // the viewer's own state, worded as theirs
    expect(items[0]).toHaveTextContent('You have not reviewed this flag');
    expect(items[0].textContent).not.toMatch(/Not reviewed/);
    expect(items[1]).toHaveTextContent('Rejected');
    expect(screen.getByRole('button', { name: 'Reject flag 2' })).toHaveAttribute('aria-pressed', 'true');
  });

  it('has named verdict buttons that report the verdict', async () => {
    const { onVerdict, onSelect } = setup();
    await userEvent.click(screen.getByRole('button', { name: 'Accept flag 1' }));
    expect(onVerdict).toHaveBeenCalledWith(0, 'accept');
    await userEvent.click(screen.getByRole('button', { name: 'Unsure flag 2' }));
    expect(onVerdict).toHaveBeenCalledWith(1, 'unsure');
    await userEvent.click(screen.getByText('Flag 2'));
    expect(onSelect).toHaveBeenCalledWith(1);
  });

  it('selects a flag when its card is clicked', async () => {
    const { onSelect } = setup();
    await userEvent.click(screen.getAllByRole('listitem')[0]);
    expect(onSelect).toHaveBeenCalledWith(0);
  });

  it("tells a reader whose verdicts were on an earlier run's flags that this run's need theirs, until all have", () => {
    const props = { selected: -1, savingFlagId: null, reasons: {}, onSelect: vi.fn(), onVerdict: vi.fn(),
      onReason: vi.fn(), labelledBy: 't', canReview: true, earlierRunVerdicts: 3 };
    const accepted = { verdict: 'accept', reason: null, comment: null, reviewer: 'clin', updated_at: '2026-01-01T00:00:00Z',
      version: 1 } as Flag['verdict'];
    const { rerender } = render(<FlagList {...props} flags={[flag(11, 1), flag(12, 2, accepted)]} />);
    expect(screen.getByRole('note')).toHaveTextContent('You gave verdicts on 3 flags of an earlier run of this case.');
    rerender(<FlagList {...props} flags={[flag(11, 1, accepted), flag(12, 2, accepted)]} />);
    expect(screen.queryByTestId('earlier-run-verdicts')).not.toBeInTheDocument();
    rerender(<FlagList {...props} canReview={false} flags={[flag(11, 1)]} />);
    expect(screen.queryByTestId('earlier-run-verdicts')).not.toBeInTheDocument();
  });

  it('disables verdicts for roles that cannot review', () => {
    setup(false);
    expect(screen.getByRole('button', { name: 'Accept flag 1' })).toBeDisabled();
    expect(screen.getByText(/Only clinicians record verdicts/)).toBeInTheDocument();
  });

  it('says how small a region goes unflagged, with flags and without', () => {
    const props = {
      selected: 0,
      savingFlagId: null,
      reasons: {},
      onSelect: vi.fn(),
      onVerdict: vi.fn(),
      onReason: vi.fn(),
      labelledBy: 't',
      canReview: true,
    };
    const { rerender } = render(<FlagList {...props} flags={[flag(11, 1)]} minFlagMl={0.8} />);
    expect(screen.getByText('Regions smaller than 0.80 mL (a sphere 1.2 cm across) are not flagged.')).toBeInTheDocument();
    rerender(<FlagList {...props} flags={[]} minFlagMl={0.8} />);
    expect(screen.getByText(/^No flags: .*Regions smaller than 0\.80 mL \(a sphere 1\.2 cm across\) are not flagged\.$/)).toBeInTheDocument();
    // an older result that did not record the size claims nothing about it
    rerender(<FlagList {...props} flags={[]} />);
    expect(screen.getByText('No flags: the model found no anomalous region above its threshold.')).toBeInTheDocument();
    expect(screen.queryByText(/smaller than/)).not.toBeInTheDocument();
  });

  it("shows each other reader's verdict under the flag, apart from the viewer's own", () => {
    const other = (reviewer: string, verdict: 'accept' | 'reject' | 'unsure', reason: string | null) => ({
      verdict,
      reason,
      comment: null,
      reviewer,
      updated_at: '2026-01-01T00:00:00Z',
      version: 1,
    });
    const flags: Flag[] = [
      { ...flag(11, 1), other_verdicts: [other('clin1', 'reject', 'vessel'), other('clin2', 'accept', null)] },
      { ...flag(12, 2, other('me', 'unsure', 'small')), other_verdicts: [other('clin1', 'accept', null)] },
    ];
    const props = {
      flags,
      selected: -1,
      savingFlagId: null,
      reasons: {},
      onSelect: vi.fn(),
      onVerdict: vi.fn(),
      onReason: vi.fn(),
      labelledBy: 't',
    };
    const { rerender } = render(<FlagList {...props} canReview />);
    const items = screen.getAllByRole('listitem');
    // no nested list items: "the Flags list has one item per flag" stays true
    expect(items).toHaveLength(2);
    const others1 = within(items[0]).getByRole('group', { name: "Other readers' verdicts on flag 1" });
    expect(others1).toHaveTextContent('clin1: Rejected · vessel');
    expect(others1).toHaveTextContent('clin2: Accepted');
    expect(items[0]).toHaveTextContent('You have not reviewed this flag');
    expect(within(items[1]).getByRole('group', { name: "Other readers' verdicts on flag 2" })).toHaveTextContent(
      'clin1: Accepted',
    );
    expect(items[1]).toHaveTextContent('Your verdict · small');
    expect(screen.getByRole('button', { name: 'Unsure flag 2' })).toHaveAttribute('aria-pressed', 'true');

    // a coordinator sees them read-only, and is never told nobody reviewed a reviewed flag
    rerender(<FlagList {...props} flags={[flags[0], flag(13, 3)]} canReview={false} />);
    const [a, b] = screen.getAllByRole('listitem');
    expect(a).toHaveTextContent('Reviewed by 2 readers');
    expect(a).toHaveTextContent('clin1: Rejected · vessel');
    expect(a).not.toHaveTextContent('You have not');
    expect(b).toHaveTextContent('No reader has reviewed this flag');
    expect(screen.getByRole('button', { name: 'Reject flag 1' })).toBeDisabled();
  });

  it('saves a reason edited after the verdict on Enter or on leaving the field, and marks it unsaved till then', async () => {
    const onReasonCommit = vi.fn();
    const onVerdict = vi.fn();
    const saved = flag(12, 2, {
      verdict: 'reject',
      reason: 'vessel',
      comment: null,
      reviewer: 'clin',
      updated_at: '2026-01-01T00:00:00Z',
      version: 1,
    });
    function Harness() {
      const [reasons, setReasons] = useState<Record<number, string>>({});
      return (
        <>
          <button type="button">elsewhere</button>
          <FlagList
            flags={[saved]}
            selected={0}
            savingFlagId={null}
            reasons={reasons}
            onSelect={vi.fn()}
            onVerdict={onVerdict}
            onReason={(id, r) => setReasons((p) => ({ ...p, [id]: r }))}
            onReasonCommit={onReasonCommit}
            labelledBy="t"
            canReview
          />
        </>
      );
    }
    render(<Harness />);
    const field = screen.getByRole('textbox', { name: 'Reason for flag 2' });
    expect(field).toHaveValue('vessel');
    expect(screen.queryByTestId('unsaved-reason-2')).not.toBeInTheDocument();
    await userEvent.type(field, ' wall');
    expect(screen.getByTestId('unsaved-reason-2')).toHaveTextContent('Reason not saved yet');
    await userEvent.keyboard('{Enter}');
    expect(onReasonCommit).toHaveBeenCalledTimes(1);
    expect(onReasonCommit).toHaveBeenLastCalledWith(12);
    await userEvent.click(screen.getByRole('button', { name: 'elsewhere' }));
    expect(onReasonCommit).toHaveBeenCalledTimes(2);
    // pressing a verdict button of the flag: the click saves the reason with the verdict, the blur does not
    await userEvent.click(field);
    await userEvent.click(screen.getByRole('button', { name: 'Accept flag 2' }));
    expect(onVerdict).toHaveBeenCalledWith(0, 'accept');
    expect(onReasonCommit).toHaveBeenCalledTimes(2);
  });
});

describe('FlagList while a verdict is saving', () => {
  it('keeps the pressed verdict button focusable (aria-disabled, not disabled) and ignores presses until saved', async () => {
    const onVerdict = vi.fn();
    const props = {
      flags: [flag(11, 1), flag(12, 2)],
      selected: 0,
      reasons: {},
      onSelect: () => {},
      onVerdict,
      onReason: () => {},
      labelledBy: 't',
      canReview: true,
    };
    const { rerender } = render(<FlagList {...props} savingFlagId={null} />);
    const accept = screen.getByRole('button', { name: 'Accept flag 1' });
    accept.focus();
    await userEvent.keyboard('{Enter}');
    expect(onVerdict).toHaveBeenCalledTimes(1);

    rerender(<FlagList {...props} savingFlagId={11} />);
    expect(accept).toBeEnabled();
    expect(accept).toHaveAttribute('aria-disabled', 'true');
    expect(accept).toHaveFocus();
    await userEvent.keyboard('{Enter}');
    expect(accept).toHaveFocus();
    await userEvent.click(screen.getByRole('button', { name: 'Reject flag 1' }));
    expect(onVerdict).toHaveBeenCalledTimes(1);
    // another flag's buttons are not held up
    expect(screen.getByRole('button', { name: 'Accept flag 2' })).not.toHaveAttribute('aria-disabled');

    rerender(<FlagList {...props} savingFlagId={null} />);
    expect(accept).not.toHaveAttribute('aria-disabled');
    await userEvent.click(accept);
    expect(onVerdict).toHaveBeenCalledTimes(2);
  });
});
