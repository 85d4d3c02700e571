import { describe, expect, it } from 'vitest';
import {
  anyActive,
  clampPercent,
  earlierResultText,
  formatDateTime,
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
      'Showing the result of an earlier run: the newest run is running.',
    );
    expect(earlierResultText({ status: 'cancelled', result_run_id: 4 })).toBe(
      'Showing the result of an earlier run: the newest run was cancelled.',
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
  it('says in a few words why a run failed, where the server kept why', () => {
    expect(statusText({ status: 'failed', progress: 5, stage: null, failure: 'sequence_mismatch' })).toBe(
      'failed · wrong sequence',
    );
    expect(statusText({ status: 'failed', progress: 5, stage: null, failure: null })).toBe('failed');
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

describe('formatDateTime', () => {
  it('writes day, month name, year, 24-hour time and the time zone', () => {
    expect(formatDateTime('2026-12-05T10:58:00Z', 'UTC')).toBe('5 Dec 2026, 10:58 UTC');
    expect(formatDateTime('2026-12-05T10:58:00Z', 'Europe/Berlin')).toBe('5 Dec 2026, 11:58 CET');
    expect(formatDateTime('2026-07-05T10:58:00Z', 'Europe/London')).toBe('5 Jul 2026, 11:58 BST');
    // no common abbreviation: the offset from UTC
    expect(formatDateTime('2026-12-05T10:58:00Z', 'America/New_York')).toBe('5 Dec 2026, 05:58 GMT-5');
    expect(formatDateTime('2026-09-30T23:05:00Z', 'UTC')).toBe('30 Sep 2026, 23:05 UTC');
    expect(formatDateTime('2026-01-01T00:00:00Z', 'UTC')).toBe('1 Jan 2026, 00:00 UTC');
  });
  it('uses the local zone by default and always names it', () => {
    expect(formatDateTime('2026-12-05T10:58:00Z')).toMatch(/^\d{1,2} [A-Z][a-z]{2} 2026, \d{2}:\d{2} \S+$/);
    expect(formatDateTime(null)).toBe('—');
    expect(formatDateTime('not a date')).toBe('not a date');
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
