import { afterEach, describe, expect, it, vi } from 'vitest';
import { caseIdFromPath, prefetchBootCase, prefetchCaseFiles, takeCaseFile } from './filePrefetch';
import { api } from '../api/client';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('file prefetch', () => {
  it('parses case paths', () => {
    expect(caseIdFromPath('/cases/12')).toBe(12);
    expect(caseIdFromPath('/cases/12/')).toBe(12);
    expect(caseIdFromPath('/cases/x')).toBeNull();
    expect(caseIdFromPath('/')).toBeNull();
  });

  it('hands a prefetched volume over once, then fetches normally', async () => {
    const fetchMock = vi.fn(async () => new Response(new Uint8Array([1, 2, 3])));
    vi.stubGlobal('fetch', fetchMock);
    const direct = vi.spyOn(api, 'caseFile').mockResolvedValue(new Uint8Array([9]).buffer);
    prefetchCaseFiles(41, ['scan']);
    prefetchCaseFiles(41, ['scan']); // deduplicated
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(new Uint8Array(await takeCaseFile(41, 'scan'))).toEqual(new Uint8Array([1, 2, 3]));
    expect(direct).not.toHaveBeenCalled();
    expect(new Uint8Array(await takeCaseFile(41, 'scan'))).toEqual(new Uint8Array([9]));
    expect(direct).toHaveBeenCalledWith(41, 'scan', undefined);
  });

  it('falls back to a normal fetch when the prefetch failed', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 404 })));
    const direct = vi.spyOn(api, 'caseFile').mockResolvedValue(new Uint8Array([7]).buffer);
    prefetchCaseFiles(42, ['anomaly_map']);
    expect(new Uint8Array(await takeCaseFile(42, 'anomaly_map'))).toEqual(new Uint8Array([7]));
    expect(direct).toHaveBeenCalledOnce();
  });

  it('at boot on a case page asks for the scan alone: a map the case may not have would be a 404', () => {
    const fetchMock = vi.fn(async () => new Response(new Uint8Array([1])));
    vi.stubGlobal('fetch', fetchMock);
    expect(prefetchBootCase('/cases/43')).toBe(43);
    expect(fetchMock.mock.calls.map((c) => String((c as unknown[])[0]))).toEqual(['/api/cases/43/files/scan?prefetch=true']);
    expect(prefetchBootCase('/')).toBeNull();
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});
