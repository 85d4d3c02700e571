/**
 * Bounds the API puts on ids and page numbers: every id column is a 32-bit signed INTEGER, and the server
 * answers 422 to a larger id or page. Checked here, a mistyped address or link shows "not found" or the first
 * page instead of an error with a Retry that can never work.
 */
export const MAX_DB_INT = 2 ** 31 - 1;

/** An id the API can look up: a whole number in 1..2^31-1. */
export function isDbId(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_DB_INT;
}

/** The page named by an address parameter: a whole number >= 1 (capped at the API's bound), otherwise page 1. */
export function pageFromParam(value: string | null): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) return 1;
  return Math.min(n, MAX_DB_INT);
}
