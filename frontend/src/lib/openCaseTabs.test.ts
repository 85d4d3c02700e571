import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@testing-library/react';
import { type CaseTabs, OPEN_ELSEWHERE_TTL_MS, createCaseTabs } from './openCaseTabs';

// Each "tab" gets its own channel of one name, as two tabs of a browser do; Node delivers between them.
const NAME = 'open-cases-under-test';
const tabs: CaseTabs[] = [];
function newTab(target: EventTarget | null = null): CaseTabs {
  const tab = createCaseTabs(new BroadcastChannel(NAME), target as Window | null);
  tabs.push(tab);
  return tab;
}
afterEach(() => {
  for (const tab of tabs.splice(0)) tab.dispose();
});

describe('cases open in other tabs', () => {
  it('knows a case is open in another tab until that tab closes it', async () => {
    const first = newTab();
    const second = newTab();
    first.opened(5);
    await waitFor(() => expect(second.openElsewhere(5)).toBe(true));
    expect(second.openElsewhere(6)).toBe(false);
    expect(first.openElsewhere(5)).toBe(false); // its own case does not count
    first.closed(5);
    await waitFor(() => expect(second.openElsewhere(5)).toBe(false));
  });

  it('tells a tab opened later what the others have open', async () => {
    const first = newTab();
    first.opened(7);
    const later = newTab();
    await waitFor(() => expect(later.openElsewhere(7)).toBe(true));
  });

  it('forgets the cases of a tab that is closed', async () => {
    const page = new EventTarget();
    const closing = newTab(page);
    const staying = newTab();
    closing.opened(5);
    await waitFor(() => expect(staying.openElsewhere(5)).toBe(true));
    page.dispatchEvent(new Event('pagehide'));
    await waitFor(() => expect(staying.openElsewhere(5)).toBe(false));
  });

  it('stops counting a tab that has not been heard of for a while', async () => {
    let clock = 1_000_000;
    const silent = newTab();
    const staying = createCaseTabs(new BroadcastChannel(NAME), null, () => clock);
    tabs.push(staying);
    silent.opened(5);
    await waitFor(() => expect(staying.openElsewhere(5)).toBe(true));
    clock += OPEN_ELSEWHERE_TTL_MS - 1;
    expect(staying.openElsewhere(5)).toBe(true);
    clock += 2; // no repeat heard (the other tab crashed, or its goodbye was lost)
    expect(staying.openElsewhere(5)).toBe(false);
  });

  it('keeps a case open while any page of the tab still shows it', async () => {
    const first = newTab();
    const second = newTab();
    first.opened(5);
    first.opened(5); // the next page mounts before the last one unmounts
    first.closed(5);
    await waitFor(() => expect(second.openElsewhere(5)).toBe(true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(second.openElsewhere(5)).toBe(true);
  });
});
