import { describe, expect, it } from 'vitest';
import { filesFromDrop, readAllEntries, topFolder, type DropItemLike, type EntryLike } from './dropFiles';
import { planUploads } from './uploadPlan';

function fileEntry(name: string): EntryLike {
  return { isFile: true, isDirectory: false, name, file: (ok) => ok(new File(['x'], name)) };
}
/** A directory whose reader hands out its entries in batches of `batch`, then []. */
function dirEntry(name: string, children: EntryLike[], batch = 2): EntryLike {
  return {
    isFile: false,
    isDirectory: true,
    name,
    createReader() {
      let pos = 0;
      return {
        readEntries(ok) {
          const out = children.slice(pos, pos + batch);
          pos += out.length;
          setTimeout(() => ok(out), 0);
        },
      };
    },
  };
}
const item = (entry: EntryLike | null, file: File | null = null): DropItemLike => ({
  kind: 'file',
  getAsFile: () => file,
  webkitGetAsEntry: () => entry,
});
const rel = (f: File) => (f as File & { webkitRelativePath?: string }).webkitRelativePath;

describe('filesFromDrop', () => {
  it('reads every batch of a directory', async () => {
    const d = dirEntry('d', ['a', 'b', 'c', 'd', 'e'].map(fileEntry));
    expect((await readAllEntries(d)).map((e) => e.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('walks dropped folders recursively, in name order, with relative paths', async () => {
    const series = dirEntry('T1_MPRAGE', [fileEntry('IM10'), fileEntry('IM2'), dirEntry('sub', [fileEntry('IM3')])]);
    const files = await filesFromDrop([item(dirEntry('study', [series]))], null);
    expect(files.map(rel)).toEqual(['study/T1_MPRAGE/IM2', 'study/T1_MPRAGE/IM10', 'study/T1_MPRAGE/sub/IM3']);
    expect(topFolder(files[0])).toBe('study');
  });

  it('keeps plain files and falls back to the file list without entries', async () => {
    const plain = new File(['x'], 'a.nii.gz');
    const files = await filesFromDrop([item(fileEntry('b.zip')), item(null, plain)], null);
    expect(files.map((f) => f.name).sort()).toEqual(['a.nii.gz', 'b.zip']);
    expect(topFolder(files[0])).toBeNull();
    const fallback = await filesFromDrop(null, [plain]);
    expect(fallback).toEqual([plain]);
  });

  it('makes one upload per dropped folder, plus one per NIfTI / zip', async () => {
    const files = await filesFromDrop(
      [
        item(dirEntry('seriesA', [fileEntry('1.dcm'), fileEntry('2.dcm')])),
        item(dirEntry('seriesB', [fileEntry('1.dcm'), fileEntry('2.dcm'), fileEntry('3.dcm')])),
        item(fileEntry('brain.nii.gz')),
      ],
      null,
    );
    const plan = planUploads(files);
    expect(plan.map((g) => [g.name, g.files.length])).toEqual([
      ['brain.nii.gz', 1],
      ['seriesA (2 files)', 2],
      ['seriesB (3 files)', 3],
    ]);
  });
});
