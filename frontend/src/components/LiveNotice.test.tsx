import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { LiveNotice } from './LiveNotice';
import { watchChanges } from '../test/liveRegion';

/** Gives the same notice on every click, counted as useCaseNotice counts the case page's notices. */
function Harness() {
  const [notice, setNotice] = useState({ text: '', serial: 0 });
  return (
    <div>
      <LiveNotice className="save-status" text={notice.text} serial={notice.serial} />
      <button type="button" onClick={() => setNotice((n) => ({ text: 'Verdict saved', serial: n.serial + 1 }))}>
        Save
      </button>
    </div>
  );
}

describe('LiveNotice', () => {
  it('replaces its content for a notice worded as the one before, so it is announced again', async () => {
    render(<Harness />);
    const status = screen.getByRole('status');
    expect(status).toHaveClass('save-status');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(status).toHaveTextContent('Verdict saved');
    const first = status.firstChild;

    const changes = watchChanges(status);
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    await Promise.resolve(); // MutationObserver reports in a microtask
    expect(status).toHaveTextContent('Verdict saved');
    expect(status.firstChild).not.toBe(first);
    expect(changes.some((m) => m.addedNodes.length > 0)).toBe(true);
  });
});
