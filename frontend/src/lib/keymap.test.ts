import { describe, expect, it } from 'vitest';
import { actionForKey, isTypingTarget, KEY_HELP, neighbourId, stepIndex } from './keymap';

function el(html: string): HTMLElement {
  const d = document.createElement('div');
  d.innerHTML = html;
  return d.firstElementChild as HTMLElement;
}

describe('actionForKey', () => {
  it('maps the review letters, case-insensitively', () => {
    expect(actionForKey({ key: 'a' })).toBe('accept');
    expect(actionForKey({ key: 'A', shiftKey: true })).toBe('accept');
    expect(actionForKey({ key: 'r' })).toBe('reject');
    expect(actionForKey({ key: 'u' })).toBe('unsure');
    expect(actionForKey({ key: 'n' })).toBe('nextFlag');
    expect(actionForKey({ key: 'p' })).toBe('prevFlag');
    expect(actionForKey({ key: 'o' })).toBe('toggleOverlay');
    expect(actionForKey({ key: 'd' })).toBe('toggle3d');
    expect(actionForKey({ key: 'm' })).toBe('markFinding');
  });
  it('maps brackets, slices, help', () => {
    expect(actionForKey({ key: ']' })).toBe('nextCase');
    expect(actionForKey({ key: '[' })).toBe('prevCase');
    expect(actionForKey({ key: 'ArrowUp' })).toBe('sliceUp');
    expect(actionForKey({ key: 'PageUp' })).toBe('sliceUp');
    expect(actionForKey({ key: 'ArrowDown' })).toBe('sliceDown');
    expect(actionForKey({ key: 'PageDown' })).toBe('sliceDown');
    expect(actionForKey({ key: '?', shiftKey: true })).toBe('toggleHelp');
    expect(actionForKey({ key: 'Escape' })).toBe('closeHelp');
  });
  it('leaves browser and OS shortcuts alone', () => {
    expect(actionForKey({ key: 'r', ctrlKey: true })).toBeNull();
    expect(actionForKey({ key: 'a', metaKey: true })).toBeNull();
    expect(actionForKey({ key: 'n', altKey: true })).toBeNull();
    expect(actionForKey({ key: 'x' })).toBeNull();
    expect(actionForKey({ key: 'Enter' })).toBeNull();
    expect(actionForKey({ key: ' ' })).toBeNull();
  });
  it('does not steal keys from text fields', () => {
    const input = el('<input type="text">');
    expect(actionForKey({ key: 'a', target: input })).toBeNull();
    expect(actionForKey({ key: 'ArrowUp', target: el('<textarea></textarea>') })).toBeNull();
    expect(actionForKey({ key: 'r', target: el('<select></select>') })).toBeNull();
    expect(actionForKey({ key: 'a', target: el('<div role="textbox"></div>') })).toBeNull();
    // Escape still closes the help from a field
    expect(actionForKey({ key: 'Escape', target: input })).toBe('closeHelp');
  });
  it('gives every key to a focused form control of any type, radios and checkboxes included', () => {
    for (const html of [
      '<input type="range">',
      '<input type="checkbox">',
      '<input type="radio" name="case-verdict">',
      '<input type="number">',
      '<input type="file">',
      '<input>',
      '<select></select>',
      '<textarea></textarea>',
      '<div contenteditable="true">x</div>',
      '<div role="radio">x</div>',
    ]) {
      const target = el(html);
      for (const key of ['a', 'r', 'u', 'n', 'p', 'o', 'd', 'm', 'A', ']', 'ArrowUp']) {
        expect(actionForKey({ key, target }), `${key} on ${html}`).toBeNull();
      }
      expect(actionForKey({ key: 'Escape', target })).toBe('closeHelp');
    }
    // inside an editable region too
    const box = el('<div contenteditable="true"><span>x</span></div>');
    expect(actionForKey({ key: 'a', target: box.firstElementChild })).toBeNull();
  });
  it('still acts on a focused button (after "Go to flag 1", A accepts it)', () => {
    expect(actionForKey({ key: 'a', target: el('<button>x</button>') })).toBe('accept');
    expect(actionForKey({ key: 'a', target: el('<div contenteditable="false">x</div>') })).toBe('accept');
  });
  it('isTypingTarget is false for non-elements', () => {
    expect(isTypingTarget(null)).toBe(false);
    expect(isTypingTarget(window)).toBe(false);
  });
});

describe('stepIndex', () => {
  it('starts at an end when nothing is selected', () => {
    expect(stepIndex(-1, 3, 1)).toBe(0);
    expect(stepIndex(-1, 3, -1)).toBe(2);
  });
  it('wraps around', () => {
    expect(stepIndex(2, 3, 1)).toBe(0);
    expect(stepIndex(0, 3, -1)).toBe(2);
    expect(stepIndex(1, 3, 1)).toBe(2);
  });
  it('is -1 for an empty list and recovers from a stale index', () => {
    expect(stepIndex(0, 0, 1)).toBe(-1);
    expect(stepIndex(7, 3, 1)).toBe(0);
  });
});

describe('neighbourId', () => {
  const ids = [9, 4, 7];
  it('finds the previous and next case without wrapping', () => {
    expect(neighbourId(ids, 4, 1)).toBe(7);
    expect(neighbourId(ids, 4, -1)).toBe(9);
    expect(neighbourId(ids, 7, 1)).toBeNull();
    expect(neighbourId(ids, 9, -1)).toBeNull();
    expect(neighbourId(ids, 5, 1)).toBeNull();
  });
});

describe('KEY_HELP', () => {
  it('documents every mapped letter and bracket', () => {
    const documented = KEY_HELP.flatMap((k) => k.keys);
    for (const k of ['A', 'R', 'U', 'N', 'P', 'O', 'D', 'M', ']', '[', '?', 'PageUp', 'PageDown']) {
      expect(documented).toContain(k);
    }
  });
});
