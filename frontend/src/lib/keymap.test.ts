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
  it('gives every key to a focused text field, select, editable element or case-verdict radio', () => {
    for (const html of [
      '<input type="radio" name="case-verdict">',
      '<div role="radio">x</div>',
      '<input type="number">',
      '<input type="file">',
      '<input>',
      '<input type="search">',
      '<select></select>',
      '<textarea></textarea>',
      '<div contenteditable="true">x</div>',
      '<div role="listbox">x</div>',
    ]) {
      const target = el(html);
      for (const key of ['a', 'r', 'u', 'n', 'p', 'o', 'd', 'm', 'A', ']', 'ArrowUp']) {
        expect(actionForKey({ key, target }), `${key} on ${html}`).toBeNull();
      }
      expect(actionForKey({ key: 'Escape', target })).toBe('closeHelp');
    }
    // inside an editable region too, even on a control in it
    const box = el('<div contenteditable="true"><span>x</span><input type="checkbox"></div>');
    expect(actionForKey({ key: 'a', target: box.firstElementChild })).toBeNull();
    expect(actionForKey({ key: 'a', target: box.lastElementChild })).toBeNull();
  });
  it('keeps the review keys on a clicked checkbox, button or slider (Show overlay, threshold, 3D render)', () => {
    for (const html of [
      '<input type="checkbox">',
      '<input type="range">',
      '<input type="button">',
      '<input type="submit">',
      '<button>x</button>',
      '<div role="slider" tabindex="0">x</div>',
      '<div role="switch" tabindex="0">x</div>',
    ]) {
      const target = el(html);
      expect(actionForKey({ key: 'd', target }), html).toBe('toggle3d');
      expect(actionForKey({ key: 'n', target }), html).toBe('nextFlag');
      expect(actionForKey({ key: 'a', target }), html).toBe('accept');
      expect(actionForKey({ key: ']', target }), html).toBe('nextCase');
      expect(actionForKey({ key: 'o', target }), html).toBe('toggleOverlay');
      expect(actionForKey({ key: '?', target }), html).toBe('toggleHelp');
      expect(actionForKey({ key: 'Escape', target }), html).toBe('closeHelp');
    }
    // a checkbox's own key (Space) is not a shortcut anyway; arrows still step the slice from a checkbox
    expect(actionForKey({ key: ' ', target: el('<input type="checkbox">') })).toBeNull();
    expect(actionForKey({ key: 'ArrowUp', target: el('<input type="checkbox">') })).toBe('sliceUp');
  });
  it("leaves a slider's own keys to it", () => {
    for (const html of ['<input type="range">', '<div role="slider" tabindex="0">x</div>']) {
      const target = el(html);
      for (const key of ['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End', 'PageUp', 'PageDown']) {
        expect(actionForKey({ key, target }), `${key} on ${html}`).toBeNull();
      }
    }
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
