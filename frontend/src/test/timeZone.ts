import { afterEach, beforeEach } from 'vitest';

/** Runs the enclosing describe's tests in ``zone`` (the process's TZ), restoring the zone after each. */
export function inTimeZone(zone: string): void {
  const before = process.env.TZ;
  beforeEach(() => {
    process.env.TZ = zone;
  });
  afterEach(() => {
    process.env.TZ = before;
    if (before === undefined) delete process.env.TZ;
  });
}
