import { describe, expect, it } from 'vitest';
import { untilForApi, windowError } from './auditWindow';

describe('untilForApi', () => {
  it('ends a To at the end of its minute, the API taking until as exclusive', () => {
    expect(untilForApi('2026-12-05T06:44:00Z')).toBe('2026-12-05T06:45:00.000Z');
    // a link with seconds keeps its minute
    expect(untilForApi('2026-12-05T06:44:30Z')).toBe('2026-12-05T06:45:00.000Z');
    expect(untilForApi('2026-12-31T23:59:00Z')).toBe('2027-01-01T00:00:00.000Z');
  });
});

describe('windowError', () => {
  it('lets From = To through as one minute and refuses a From after To', () => {
    expect(windowError('2026-12-05T06:44:00Z', '2026-12-05T06:44:00Z')).toBeNull();
    expect(windowError('2026-12-05T06:43:00Z', '2026-12-05T06:44:00Z')).toBeNull();
    expect(windowError('2026-12-05T06:45:00Z', '2026-12-05T06:44:00Z')).toBe(
      '“From” must not be after “To”: no event lies in that window.',
    );
  });

  it('has nothing to say with one end open', () => {
    expect(windowError(undefined, '2026-12-05T06:44:00Z')).toBeNull();
    expect(windowError('2026-12-05T06:44:00Z', undefined)).toBeNull();
  });
});
