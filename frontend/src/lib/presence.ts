import { useSyncExternalStore } from 'react';

/**
 * Whether someone is at this browser: any key, pointer, wheel or touch input within `AWAY_AFTER_MS`, or the page
 * coming back into view (the window focused, the page restored with Back).
 *
 * The service ends a browser session after an hour without requests (NEUROTRIAGE_SESSION_IDLE_MINUTES), but an
 * open page keeps asking on its own: polls, the case claim's renewal, review-time reports. On an unattended
 * workstation those would keep the session signed in, the open case claimed and its review clock running for
 * hours. So that background traffic stops while nobody is there (and starts again at the next input), and the
 * session then lapses as the service intends.
 */
export const AWAY_AFTER_MS = 10 * 60_000;
// How often presence is re-checked while someone is there; input is only timestamped, never timed out one by one.
const CHECK_MS = 15_000;
const INPUTS = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'] as const;

let lastInput = Date.now();
let present = true;
// Each return after an absence; counted from the time since the last input, not from `present`, which the
// re-check updates only every CHECK_MS (the polls, asking `userPresent()`, may have stopped in between).
let returns = 0;
let check: ReturnType<typeof setInterval> | undefined;
const subscribers = new Set<() => void>();

function notifyAll(): void {
  subscribers.forEach((notify) => notify());
}

function setPresent(value: boolean): void {
  if (value === present) return;
  present = value;
  notifyAll();
}

function onInput(): void {
  const now = Date.now();
  const wasAway = now - lastInput >= AWAY_AFTER_MS;
  lastInput = now;
  if (wasAway) {
    returns += 1;
    present = true;
    notifyAll();
  }
}

function recheck(): void {
  setPresent(Date.now() - lastInput < AWAY_AFTER_MS);
}

let listening = false;

/** Input is watched from the first question on, for the life of the page (a handful of passive listeners). */
function listen(): void {
  if (listening) return;
  listening = true;
  lastInput = Date.now();
  // capture: the viewer's canvas handles its own pointer events, and they must count too
  INPUTS.forEach((type) => window.addEventListener(type, onInput, { capture: true, passive: true }));
  // Coming back to the page from elsewhere also counts: a page restored with Back, the window focused (switching
  // tabs or windows). The latter is heard on the window only, since the app's own focus moves within the page must
  // not count.
  window.addEventListener('pageshow', onInput);
  window.addEventListener('focus', (event) => {
    if (!(event.target instanceof Node)) onInput();
  });
}

function subscribe(notify: () => void): () => void {
  listen();
  if (subscribers.size === 0) check = setInterval(recheck, CHECK_MS);
  subscribers.add(notify);
  return () => {
    subscribers.delete(notify);
    if (subscribers.size === 0) clearInterval(check);
  };
}

/** True while someone is at the browser (see `AWAY_AFTER_MS`); for code outside React, such as a poll's interval. */
export function userPresent(): boolean {
  listen();
  return Date.now() - lastInput < AWAY_AFTER_MS;
}

/** When the last input came (epoch milliseconds). */
export function lastInputAt(): number {
  listen();
  return lastInput;
}

/** `userPresent()`, re-rendering when it changes. */
export function usePresence(): boolean {
  return useSyncExternalStore(subscribe, () => present);
}

/** How many times someone came back after an absence; a change means "fetch what the page shows again". */
export function useReturns(): number {
  return useSyncExternalStore(subscribe, () => returns);
}

/** For tests: as if input just came. */
export function resetPresence(): void {
  onInput();
}
