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
 * Input types that take no typed text: letters mean nothing to them, so the review keys still act there. Not radios:
 * the case page's only radios are the case verdict's, beside its comment field, and a reader who starts the comment
 * with focus still on a radio must not accept, reject or mark anything with the letters typed.
 */
const KEYLESS_INPUTS = new Set(['checkbox', 'range', 'button', 'submit', 'reset', 'image']);
/** Roles of widgets that take no typed text (a slider's own keys are listed in `WIDGET_KEYS`). */
const KEYLESS_ROLES = new Set(['checkbox', 'switch', 'slider', 'button']);

/**
 * Keys a focused slider uses itself: these stay with it, so after clicking the threshold slider ↑ still moves the
 * slider, not the slice. Letters and brackets go to the review.
 */
const WIDGET_KEYS = new Set(['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End', 'PageUp', 'PageDown']);

/**
 * True when focus is where keys are typed: a text-like input, a select, a textarea, an editable element or a widget
 * that reads letters itself (listbox type-ahead, combobox), and a radio (see `KEYLESS_INPUTS`). The key belongs to
 * that control, never to a shortcut. A checkbox, button or range slider is not one: clicking "Show overlay" or the
 * threshold slider must not silently turn the review keys off (a slider's own keys stay its: see `keepsKey`).
 */
export function isTypingTarget(target: EventTarget | null | undefined): boolean {
  if (!target || typeof (target as Element).tagName !== 'string') return false;
  const el = target as HTMLElement;
  const tag = el.tagName.toLowerCase();
  if (el.isContentEditable) return true;
  // jsdom (and old engines) may not compute isContentEditable: read the attribute up the tree too
  const editable = el.closest?.('[contenteditable]');
  if (editable && editable.getAttribute('contenteditable') !== 'false') return true;
  const role = el.getAttribute?.('role');
  if (role && KEYLESS_ROLES.has(role)) return false;
  if (tag === 'input') return !KEYLESS_INPUTS.has((el as HTMLInputElement).type);
  if (tag === 'textarea' || tag === 'select') return true;
  return (
    role === 'textbox' ||
    role === 'combobox' ||
    role === 'spinbutton' ||
    role === 'searchbox' ||
    role === 'listbox' ||
    role === 'radio'
  );
}

/** True when a focused slider uses `key` itself (moving its value). */
function keepsKey(target: EventTarget | null | undefined, key: string): boolean {
  if (!WIDGET_KEYS.has(key) || !target || typeof (target as Element).tagName !== 'string') return false;
  const el = target as HTMLElement;
  if (el.getAttribute?.('role') === 'slider') return true;
  return el.tagName.toLowerCase() === 'input' && (el as HTMLInputElement).type === 'range';
}

/** Maps a keyboard event to a review action, or null when the key is not ours. */
export function actionForKey(e: KeyLike): KeyAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (isTypingTarget(e.target)) {
    return e.key === 'Escape' ? 'closeHelp' : null;
  }
  if (keepsKey(e.target, e.key)) return null;
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
