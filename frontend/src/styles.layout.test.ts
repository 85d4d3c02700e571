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
      if (depth === 0 && !prelude.startsWith('@') && prelude.split(',').map((s) => s.trim()).includes(selector)) {
        for (const d of text.slice(start, i).split(';')) {
          const at = d.indexOf(':');
          if (at > 0) out[d.slice(0, at).trim()] = d.slice(at + 1).trim();
        }
      }
      start = i + 1;
    }
  }
  return out;
}

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
