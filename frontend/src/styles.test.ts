import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

// read from disk: Vitest hands CSS imports (even `?raw`) to tests as empty strings
const css = readFileSync(resolve(__dirname, 'styles.css'), 'utf8');

/** The declarations that apply to `selector` outside media queries, later rules winning (as in the cascade). */
function declarations(selector: string): Record<string, string> {
  const out: Record<string, string> = {};
  const text = css.replace(/\/\*[\s\S]*?\*\//g, '');
  let depth = 0;
  let start = 0;
  let prelude = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '{') {
      if (depth === 0) prelude = text.slice(start, i).trim();
      depth++;
      start = i + 1;
    } else if (text[i] === '}') {
      depth--;
      if (depth === 0) {
        if (!prelude.startsWith('@') && prelude.split(',').map((s) => s.trim()).includes(selector)) {
          for (const d of text.slice(start, i).split(';')) {
            const at = d.indexOf(':');
            if (at > 0) out[d.slice(0, at).trim()] = d.slice(at + 1).trim();
          }
        }
      }
      start = i + 1;
    }
  }
  return out;
}

describe('case bar at narrow widths (1024 px)', () => {
  it('keeps the case label whole (up to 40 characters) and wraps the bar instead of squeezing it', () => {
    const h1 = declarations('.case-bar h1');
    // the label never shrinks below its text for its neighbours: it shrinks not at all, or not below a minimum
    expect(h1['flex-shrink'] === '0' || (h1['min-width'] != null && h1['min-width'] !== '0')).toBe(true);
    expect(h1['max-width']).toMatch(/\d+ch/);
    expect(h1['text-overflow']).toBe('ellipsis');
    expect(declarations('.case-bar')['flex-wrap']).toBe('wrap');
    // the model name may shrink (it moves whole to the next line before it is cut: below)
    expect(declarations('.case-bar .model-line')['min-width']).toBe('0');
  });
});

describe('keyboard key chips', () => {
  it('use a sans-serif face, where the letter O and a zero differ', () => {
    const kbd = declarations('kbd');
    expect(kbd['font-family']).toMatch(/sans-serif$/);
    expect(kbd['font-family']).not.toMatch(/monospace/);
  });
});

describe('worklist filters at 1024 px', () => {
  it('wrap onto another line instead of running past the panel, each label on one line', () => {
    expect(declarations('.toolbar')['flex-wrap']).toBe('wrap');
    expect(declarations('.toolbar > *')['white-space']).toBe('nowrap');
  });
});

describe('symbols in upper-cased labels', () => {
  it('keep their case: the statistics write kappa as κ, which upper-cased reads as K', () => {
    expect(declarations('.as-written')['text-transform']).toBe('none');
  });
});

describe('the model name in the case bar (1400 px)', () => {
  it('is shown whole: it moves to the next line or wraps, never ends in an ellipsis', () => {
    const model = declarations('.case-bar .model-line');
    expect(model['text-overflow'] ?? 'clip').not.toBe('ellipsis');
    expect(model.overflow ?? 'visible').toBe('visible');
    // its basis is its whole text, so a full line wraps it onto the next rather than squeeze it
    expect(model.flex).toMatch(/ auto$/);
    // the bar's children are nowrap; a name wider than the whole bar wraps instead of running past it
    expect(model['white-space']).toBe('normal');
    expect(model['max-width']).toBe('100%');
  });
});

describe('the worklist table at 800 px', () => {
  it('scrolls sideways inside its container instead of cutting its last columns', () => {
    expect(declarations('.table-scroll')['overflow-x']).toBe('auto');
  });
});
