import { describe, expect, it } from 'vitest';
import { filenameFromContentDisposition } from './download';

describe('filenameFromContentDisposition', () => {
  it('reads the quoted, the bare and the RFC 5987 forms, the last first', () => {
    expect(filenameFromContentDisposition('attachment; filename="neurotriage-export.csv"')).toBe('neurotriage-export.csv');
    expect(filenameFromContentDisposition('attachment; filename=export.json')).toBe('export.json');
    expect(filenameFromContentDisposition(`attachment; filename="fallback.csv"; filename*=UTF-8''K%C3%B6ln%20cases.csv`)).toBe(
      'Köln cases.csv',
    );
    expect(filenameFromContentDisposition('attachment; filename="say \\"hi\\".csv"')).toBe('say "hi".csv');
  });

  it('keeps only the name of a path, and gives null without a usable name', () => {
    expect(filenameFromContentDisposition('attachment; filename="../../etc/passwd"')).toBe('passwd');
    expect(filenameFromContentDisposition('attachment; filename="C:\\\\x\\\\cases.csv"')).toBe('cases.csv');
    expect(filenameFromContentDisposition('attachment')).toBeNull();
    expect(filenameFromContentDisposition('attachment; filename=".."')).toBeNull();
    expect(filenameFromContentDisposition(null)).toBeNull();
  });
});
