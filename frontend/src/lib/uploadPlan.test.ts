import { describe, expect, it } from 'vitest';
import { planUploads } from './uploadPlan';

const file = (name: string, rel?: string) => {
  const f = new File(['x'], name);
  if (rel) Object.defineProperty(f, 'webkitRelativePath', { value: rel });
  return f;
};

describe('planUploads', () => {
  it('makes one case per NIfTI file and per zip', () => {
    const g = planUploads([file('a.nii.gz'), file('b.nii'), file('series.zip')]);
    expect(g.map((x) => [x.name, x.files.length])).toEqual([
      ['a.nii.gz', 1],
      ['b.nii', 1],
      ['series.zip', 1],
    ]);
  });
  it('groups DICOM files of a folder into one case and skips clutter', () => {
    const g = planUploads([
      file('IM0001', 'study/T1_MPRAGE/IM0001'),
      file('IM0002', 'study/T1_MPRAGE/IM0002'),
      file('.DS_Store', 'study/T1_MPRAGE/.DS_Store'),
      file('notes.txt', 'study/T1_MPRAGE/notes.txt'),
      file('x.dcm', 'study/T1_MPRAGE/x.dcm'),
    ]);
    expect(g).toHaveLength(1);
    expect(g[0].name).toBe('T1_MPRAGE (3 files)');
    expect(g[0].files.map((f) => f.name)).toEqual(['IM0001', 'IM0002', 'x.dcm']);
  });
  it('names a study of several series folders by the study folder: one request, the server lists its series', () => {
    const g = planUploads([
      file('IM1', 'CD/DICOM/S0004/IM1'),
      file('IM2', 'CD/DICOM/S0004/IM2'),
      file('IM1', 'CD/DICOM/S0007/IM1'),
    ]);
    expect(g.map((x) => [x.name, x.files.length])).toEqual([['DICOM (3 files)', 3]]);
  });
  it('sends a single odd file as is, so the server can explain what is wrong with it', () => {
    const g = planUploads([file('notes.txt')]);
    expect(g).toEqual([{ name: 'notes.txt', files: [expect.any(File)] }]);
  });
  it('is empty for nothing', () => {
    expect(planUploads([])).toEqual([]);
  });
});
