import { describe, expect, it } from 'vitest';
import {
  anyActive,
  clampPercent,
  earlierResultText,
  formatMl,
  formatScore,
  formatVec,
  hasResult,
  smallestFlagText,
  statusText,
  verdictText,
} from './format';
import { loginPath, safeNext } from './returnTo';

describe('earlierResultText', () => {
  it('says which run the result comes from when the newest run has not succeeded', () => {
    expect(earlierResultText({ status: 'running', result_run_id: 4 })).toBe(
      'Showing the result of run 4: the newest run is running.',
    );
    expect(earlierResultText({ status: 'cancelled', result_run_id: 4 })).toBe(
      'Showing the result of run 4: the newest run was cancelled.',
    );
    expect(earlierResultText({ status: 'succeeded', result_run_id: 5 })).toBeNull();
    expect(earlierResultText({ status: 'queued', result_run_id: null })).toBeNull();
    expect(hasResult({ result_run_id: null })).toBe(false);
    expect(hasResult({ result_run_id: 4 })).toBe(true);
  });
});

describe('statusText', () => {
  it('shows progress and stage while running', () => {
    expect(statusText({ status: 'running', progress: 40, stage: 'threshold search' })).toBe(
      'running 40% · threshold search',
    );
    expect(statusText({ status: 'running', progress: 140.4, stage: null })).toBe('running 100%');
    expect(statusText({ status: 'succeeded', progress: 100, stage: null })).toBe('succeeded');
    expect(statusText({ status: 'failed', progress: 5, stage: 'preprocessing' })).toBe('failed');
  });
  it('knows when to poll', () => {
    expect(anyActive([{ status: 'succeeded' }, { status: 'queued' }])).toBe(true);
    expect(anyActive([{ status: 'succeeded' }, { status: 'failed' }])).toBe(false);
    expect(anyActive(undefined)).toBe(false);
  });
});

describe('number formats', () => {
  it('formats', () => {
    expect(clampPercent(NaN)).toBe(0);
    expect(formatScore(null)).toBe('—');
    expect(formatScore(0.01234)).toBe('0.0123');
    expect(formatMl(3.36)).toBe('3.36');
    expect(formatMl(12.345)).toBe('12.3');
    expect(formatVec([1, -2.25, 3])).toBe('1.0, -2.3, 3.0');
    expect(verdictText('reject')).toBe('Rejected');
    expect(verdictText(null)).toBe('Not reviewed');
  });
  it('gives the smallest flag as a volume and the diameter of a sphere that size', () => {
    expect(smallestFlagText(0.8)).toBe('0.80 mL (a sphere 1.2 cm across)');
    expect(smallestFlagText(0.12)).toBe('0.12 mL (a sphere 0.6 cm across)');
    expect(smallestFlagText(null)).toBe('—');
    expect(smallestFlagText(0)).toBe('—');
  });
});

describe('return-to after login', () => {
  it('accepts only same-app paths', () => {
    expect(safeNext('/cases/4?x=1')).toBe('/cases/4?x=1');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('//evil.example/')).toBe('/');
    expect(safeNext('/\\evil')).toBe('/');
    expect(safeNext('/login?next=/x')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });
  it('builds the login link', () => {
    expect(loginPath('/cases/4')).toBe('/login?next=%2Fcases%2F4');
    expect(loginPath('/')).toBe('/login');
  });
});
