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

/**
 * True when focus is in a form control (any input, radio and checkbox included, a select, a textarea, an
 * editable element or a widget that takes keys itself): the key belongs to that control, never to a shortcut.
 * A stray letter on a case-verdict radio must not change a flag verdict. Buttons are not form controls here:
 * after clicking "Go to flag 1" the review letters still act.
 */
export function isTypingTarget(target: EventTarget | null | undefined): boolean {
  if (!target || typeof (target as Element).tagName !== 'string') return false;
  const el = target as HTMLElement;
  const tag = el.tagName.toLowerCase();
  if (el.isContentEditable) return true;
  // jsdom (and old engines) may not compute isContentEditable: read the attribute up the tree too
  const editable = el.closest?.('[contenteditable]');
  if (editable && editable.getAttribute('contenteditable') !== 'false') return true;
  if (tag === 'textarea' || tag === 'select' || tag === 'input') return true;
  const role = el.getAttribute?.('role');
  if (
    role === 'textbox' ||
    role === 'combobox' ||
    role === 'slider' ||
    role === 'spinbutton' ||
    role === 'radio' ||
    role === 'checkbox' ||
    role === 'switch' ||
    role === 'searchbox' ||
    role === 'listbox'
  ) {
    return true;
  }
  return false;
}

/** Maps a keyboard event to a review action, or null when the key is not ours. */
export function actionForKey(e: KeyLike): KeyAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (isTypingTarget(e.target)) {
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
