/**
 * Which cases the reader's other tabs have open, so that leaving a case in one tab does not give up the
 * claim that another tab of the same browser still reads under (claims are per user, not per tab).
 *
 * Tabs tell each other over a BroadcastChannel: "open" and "closed" per case, "gone" when a tab is hidden
 * for good (`pagehide`), and "hello" from a tab that starts or comes back from the back/forward cache,
 * which the others answer with what they have open. The answer to "is it open elsewhere?" is then known
 * synchronously, which a `pagehide` handler needs: it cannot wait for a reply. Each tab repeats its "open"s
 * every minute, and one not heard of for 2.5 minutes no longer counts, so a tab that crashed (or whose "gone"
 * was lost) holds nothing back for long.
 */

type Message =
  | { kind: 'open' | 'closed'; tab: string; caseId: number }
  | { kind: 'hello' | 'gone'; tab: string };

export interface CaseTabs {
  /** this tab shows the case (counted: the same case may be mounted twice during a page change) */
  opened: (caseId: number) => void;
  closed: (caseId: number) => void;
  /** true when another tab of this browser has the case open */
  openElsewhere: (caseId: number) => boolean;
  /** says goodbye to the other tabs and stops listening; for tests */
  dispose: () => void;
}

export const CHANNEL_NAME = 'neurotriage-open-cases';
export const HEARTBEAT_MS = 60_000;
export const OPEN_ELSEWHERE_TTL_MS = 150_000;

function newTabId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random()}`;
}

/**
 * One tab's view. ``channel`` null (a browser without BroadcastChannel) makes every case look open in no
 * other tab, which is how the app behaved before tabs talked.
 */
export function createCaseTabs(
  channel: BroadcastChannel | null,
  target: Window | null = null,
  now: () => number = Date.now,
): CaseTabs {
  const tab = newTabId();
  const mine = new Map<number, number>();
  // tab -> case -> when that tab last said it has the case open (ms)
  const elsewhere = new Map<string, Map<number, number>>();
  const post = (message: Message) => channel?.postMessage(message);
  const announce = () => {
    for (const caseId of mine.keys()) post({ kind: 'open', tab, caseId });
  };

  const onMessage = (event: MessageEvent<Message>) => {
    const m = event.data;
    if (!m || typeof m !== 'object' || m.tab === tab) return;
    if (m.kind === 'hello') {
      announce();
    } else if (m.kind === 'gone') {
      elsewhere.delete(m.tab);
    } else if (m.kind === 'open') {
      elsewhere.set(m.tab, (elsewhere.get(m.tab) ?? new Map()).set(m.caseId, now()));
    } else if (m.kind === 'closed') {
      elsewhere.get(m.tab)?.delete(m.caseId);
    }
  };
  // Every open case is announced again now and then: a tab that vanished without "gone" (a crash, or a close
  // whose message was lost) stops counting after OPEN_ELSEWHERE_TTL_MS, and its cases' claims can go again.
  const heartbeat = channel ? globalThis.setInterval(announce, HEARTBEAT_MS) : undefined;
  (heartbeat as unknown as { unref?: () => void } | undefined)?.unref?.();
  const onPageHide = () => post({ kind: 'gone', tab });
  const onPageShow = (e: PageTransitionEvent) => {
    if (!e.persisted) return;
    post({ kind: 'hello', tab });
    announce();
  };

  channel?.addEventListener('message', onMessage as EventListener);
  target?.addEventListener('pagehide', onPageHide);
  target?.addEventListener('pageshow', onPageShow as EventListener);
  post({ kind: 'hello', tab });

  return {
    opened(caseId) {
      mine.set(caseId, (mine.get(caseId) ?? 0) + 1);
      post({ kind: 'open', tab, caseId });
    },
    closed(caseId) {
      const left = (mine.get(caseId) ?? 0) - 1;
      if (left > 0) {
        mine.set(caseId, left);
        return;
      }
      mine.delete(caseId);
      post({ kind: 'closed', tab, caseId });
    },
    openElsewhere(caseId) {
      const seen = [...elsewhere.values()].map((cases) => cases.get(caseId) ?? -Infinity);
      return seen.some((when) => now() - when < OPEN_ELSEWHERE_TTL_MS);
    },
    dispose() {
      globalThis.clearInterval(heartbeat);
      post({ kind: 'gone', tab });
      channel?.removeEventListener('message', onMessage as EventListener);
      target?.removeEventListener('pagehide', onPageHide);
      target?.removeEventListener('pageshow', onPageShow as EventListener);
      channel?.close();
    },
  };
}

function appChannel(): BroadcastChannel | null {
  if (typeof BroadcastChannel === 'undefined') return null;
  const channel = new BroadcastChannel(CHANNEL_NAME);
  // Node's BroadcastChannel (the tests' runtime) would otherwise keep the process alive; browsers lack unref.
  (channel as unknown as { unref?: () => void }).unref?.();
  return channel;
}

/** This tab's view, shared by every case page of the app. */
export const caseTabs: CaseTabs = createCaseTabs(appChannel(), typeof window === 'undefined' ? null : window);
