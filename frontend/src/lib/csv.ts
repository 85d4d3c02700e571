import { saveBlob } from './download';

/** CSV for spreadsheets: RFC 4180 quoting, CRLF lines, and no formula injection. */

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'object' ? JSON.stringify(value) : String(value);
  // a cell starting with = + - @ would run as a formula in Excel/LibreOffice; numbers stay numbers
  if (FORMULA_START.test(s) && !(typeof value === 'number')) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return csvLines([header, ...rows]);
}

/** Rows as CSV lines, each ending in CRLF ('' for none): for a file written a part at a time. */
export function csvLines(rows: unknown[][]): string {
  return rows.map((r) => r.map(csvCell).join(',') + '\r\n').join('');
}

/** Offers text as a file download. */
export function downloadText(text: string, filename: string, type = 'text/csv;charset=utf-8'): void {
  saveBlob(new Blob([text], { type }), filename);
}
