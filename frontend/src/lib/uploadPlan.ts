import { topFolder } from './dropFiles';

/**
 * Splits chosen files into upload requests (one request = one case):
 * each NIfTI file and each zip is its own case; all remaining files (DICOM slices, often without an
 * extension) form one series per top folder (loose files together: one series). Hidden files and obvious non-scan files are dropped.
 */
export interface UploadGroup {
  name: string;
  files: File[];
}

const NIFTI = /\.nii(\.gz)?$/i;
const ZIP = /\.zip$/i;
const IGNORE = /(^\.|^thumbs\.db$|^desktop\.ini$|\.(txt|md|json|xml|html?|jpe?g|png|pdf)$)/i;

function baseName(f: File): string {
  const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath;
  return (rel || f.name).split('/').pop() ?? f.name;
}

/** The deepest folder holding all the files: the series' own folder, or the study's when it holds several. */
function commonFolder(files: File[]): string | null {
  const folders = files.map((f) => {
    const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath ?? '';
    return rel.split('/').slice(0, -1);
  });
  let depth = 0;
  while (folders.every((parts) => depth < parts.length && parts[depth] === folders[0][depth])) depth++;
  return depth > 0 ? folders[0][depth - 1] : null;
}

export function planUploads(files: readonly File[]): UploadGroup[] {
  const groups: UploadGroup[] = [];
  // DICOM files per top folder (each dropped folder is one series; loose files together are one)
  const series = new Map<string, File[]>();
  for (const f of files) {
    const n = baseName(f);
    if (NIFTI.test(n) || ZIP.test(n)) groups.push({ name: n, files: [f] });
    else if (files.length === 1 || !IGNORE.test(n)) {
      const top = topFolder(f) ?? '';
      const list = series.get(top);
      if (list) list.push(f);
      else series.set(top, [f]);
    }
  }
  for (const list of series.values()) {
    const folder = commonFolder(list);
    const name = list.length === 1 ? baseName(list[0]) : `${folder ?? 'DICOM series'} (${list.length} files)`;
    groups.push({ name, files: list });
  }
  return groups;
}
