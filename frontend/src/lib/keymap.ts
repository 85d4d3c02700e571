/** The case-review keyboard map: pure, so it can be unit tested without a DOM. */

export type KeyAction =
  | 'accept'
  | 'reject'
  | 'unsure'
  | 'nextFlag'
  | 'prevFlag'
  | 'nextCase'
  | 'prevCase'
  | 'toggleOverlay'
  | 'toggle3d'
  | 'markFinding'
  | 'sliceUp'
  | 'sliceDown'
  | 'toggleHelp'
  | 'closeHelp';

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  shiftKey?: boolean;
  target?: EventTarget | null;
}

const LETTERS: Record<string, KeyAction> = {
  a: 'accept',
  r: 'reject',
  u: 'unsure',
  n: 'nextFlag',
  p: 'prevFlag',
  o: 'toggleOverlay',
  d: 'toggle3d',
  m: 'markFinding',
};

const OTHERS: Record<string, KeyAction> = {
  ']': 'nextCase',
  '[': 'prevCase',
  ArrowUp: 'sliceUp',
  PageUp: 'sliceUp',
  ArrowDown: 'sliceDown',
  PageDown: 'sliceDown',
  '?': 'toggleHelp',
  Escape: 'closeHelp',
};

const TEXT_INPUT_TYPES = new Set([
  'text', 'search', 'email', 'password', 'number', 'tel', 'url', 'date', 'datetime-local', 'month', 'time', 'week',
]);

/** True when the key belongs to a text field (or a control that uses arrows itself). */
export function isTypingTarget(target: EventTarget | null | undefined, key?: string): boolean {
  if (!target || typeof (target as Element).tagName !== 'string') return false;
  const el = target as HTMLElement;
  const tag = el.tagName.toLowerCase();
  if (el.isContentEditable) return true;
  if (tag === 'textarea' || tag === 'select') return true;
  if (tag === 'input') {
    const type = ((el as HTMLInputElement).type || 'text').toLowerCase();
    if (TEXT_INPUT_TYPES.has(type)) return true;
    // sliders and radios use arrows/Page keys themselves
    if ((type === 'range' || type === 'radio') && key && /^(Arrow|Page|Home|End)/.test(key)) return true;
  }
  const role = el.getAttribute?.('role');
  if (role === 'textbox' || role === 'combobox' || role === 'slider' || role === 'spinbutton') return true;
  return false;
}

/** Maps a keyboard event to a review action, or null when the key is not ours. */
export function actionForKey(e: KeyLike): KeyAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (isTypingTarget(e.target, e.key)) {
    return e.key === 'Escape' ? 'closeHelp' : null;
  }
  if (e.key.length === 1) {
    const lower = e.key.toLowerCase();
    if (LETTERS[lower]) return LETTERS[lower];
  }
  return OTHERS[e.key] ?? null;
}

export interface KeyHelpEntry {
  keys: string[];
  description: string;
}

export const KEY_HELP: KeyHelpEntry[] = [
  { keys: ['A'], description: 'Accept the selected flag' },
  { keys: ['R'], description: 'Reject the selected flag' },
  { keys: ['U'], description: 'Mark the selected flag unsure' },
  { keys: ['N'], description: 'Next flag' },
  { keys: ['P'], description: 'Previous flag' },
  { keys: [']'], description: 'Next case' },
  { keys: ['['], description: 'Previous case' },
  { keys: ['O'], description: 'Toggle the anomaly overlay' },
  { keys: ['D'], description: 'Toggle 3D render / multiplanar' },
  { keys: ['M'], description: 'Mark a missed finding at the crosshair' },
  { keys: ['↑', 'PageUp'], description: 'Next axial slice' },
  { keys: ['↓', 'PageDown'], description: 'Previous axial slice' },
  { keys: ['?'], description: 'Show or hide this help' },
  { keys: ['Esc'], description: 'Close this help' },
];

/** Index of the next/previous item in a list of `length`, wrapping; -1 (nothing selected) starts at an end. */
export function stepIndex(current: number, length: number, delta: 1 | -1): number {
  if (length <= 0) return -1;
  if (current < 0 || current >= length) return delta > 0 ? 0 : length - 1;
  return (current + delta + length) % length;
}

/** The neighbour id in an ordered id list, or null at the ends / when absent (no wrap across cases). */
export function neighbourId(ids: readonly number[], current: number, delta: 1 | -1): number | null {
  const i = ids.indexOf(current);
  if (i < 0) return null;
  const j = i + delta;
  return j >= 0 && j < ids.length ? ids[j] : null;
}
