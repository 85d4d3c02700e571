import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { renderAt } from '../test/render';
import { api } from '../api/client';
import { ApiError } from '../api/errors';
import type { CaseDetail } from '../api/types';
import type { EntryLike } from '../lib/dropFiles';
import { catalogueOf } from '../test/models';
import { resetUploadQueue } from '../lib/uploadQueue';
import { UploadForm } from './UploadForm';

afterEach(() => {
  vi.restoreAllMocks();
  resetUploadQueue();
});

const fileEntry = (name: string): EntryLike => ({
  isFile: true,
  isDirectory: false,
  name,
  file: (ok) => ok(new File(['x'], name)),
});
const dirEntry = (name: string, children: EntryLike[]): EntryLike => ({
  isFile: false,
  isDirectory: true,
  name,
  createReader() {
    let done = false;
    return {
      readEntries(ok) {
        const out = done ? [] : children;
        done = true;
        ok(out);
      },
    };
  },
});

describe('UploadForm', () => {
  it('takes a dropped DICOM folder and a NIfTI file as two uploads, each with its own progress bar', async () => {
    const resolvers: ((c: CaseDetail) => void)[] = [];
    const upload = vi.spyOn(api, 'uploadCaseWithProgress').mockImplementation(
      (_files, opts) =>
        new Promise<CaseDetail>((resolve) => {
          opts?.onProgress?.(0.5);
          resolvers.push(resolve);
        }),
    );
    renderAt(<UploadForm user="clin" />);
    const zone = screen.getByRole('region', { name: 'Upload scan' });
    const items = [
      { kind: 'file', getAsFile: () => null, webkitGetAsEntry: () => dirEntry('T1_series', [fileEntry('IM1'), fileEntry('IM2')]) },
      { kind: 'file', getAsFile: () => null, webkitGetAsEntry: () => fileEntry('brain.nii.gz') },
    ];
    fireEvent.drop(zone, { dataTransfer: { items, files: [] } });
    expect(await screen.findByText(/Chosen: brain\.nii\.gz, T1_series \(2 files\)/)).toBeInTheDocument();

    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Sequence' }), 't1');
    await userEvent.click(screen.getByRole('button', { name: 'Upload' }));
    const first = await screen.findByRole('progressbar', { name: 'Upload progress for brain.nii.gz' });
    expect(first).toHaveAttribute('aria-valuenow', '50');
    expect(screen.getByRole('progressbar', { name: 'Upload progress for T1_series (2 files)' })).toHaveAttribute(
      'aria-valuenow',
      '0',
    );
    resolvers[0]({ id: 1 } as CaseDetail);
    await waitFor(() => expect(upload).toHaveBeenCalledTimes(2));
    const series = upload.mock.calls[1][0] as File[];
    expect(series.map((f) => (f as File & { webkitRelativePath: string }).webkitRelativePath)).toEqual([
      'T1_series/IM1',
      'T1_series/IM2',
    ]);
    resolvers[1]({ id: 2 } as CaseDetail);
    await waitFor(() => expect(screen.getAllByText('Uploaded; queued for analysis.')).toHaveLength(2));
    expect(upload.mock.calls[0][1]).toMatchObject({ sequence: 't1' });
    // the next upload states its own sequence: the last one's is not kept for it
    expect(screen.getByRole('combobox', { name: 'Sequence' })).toHaveValue('');
  });

  it('links the case a refused upload duplicates', async () => {
    vi.spyOn(api, 'uploadCaseWithProgress').mockRejectedValue(
      new ApiError(409, 'This scan was already uploaded as case 4.'),
    );
    renderAt(<UploadForm user="clin" />);
    fireEvent.change(screen.getByLabelText('Scan file'), { target: { files: [new File(['x'], 'a.nii.gz')] } });
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Sequence' }), 't1');
    await userEvent.click(screen.getByRole('button', { name: 'Upload' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('This scan was already uploaded as case 4.');
    expect(screen.getByRole('link', { name: 'case 4' })).toHaveAttribute('href', '/cases/4');
  });

  it('keeps the outcome of an upload for its user while they are on another page, and shows it no one else', async () => {
    let finish: (c: CaseDetail) => void = () => {};
    vi.spyOn(api, 'uploadCaseWithProgress').mockImplementation(
      () => new Promise<CaseDetail>((resolve) => (finish = resolve)),
    );
    const first = renderAt(<UploadForm user="clin" />);
    fireEvent.change(screen.getByLabelText('Scan file'), { target: { files: [new File(['x'], 'brain.nii.gz')] } });
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Sequence' }), 't1');
    await userEvent.click(screen.getByRole('button', { name: 'Upload' }));
    const leave = vi.fn();
    window.addEventListener('beforeunload', leave);
    const closing = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(closing);
    expect(closing.defaultPrevented).toBe(true); // the browser asks before closing the tab mid-upload
    first.unmount(); // the reader opened a case meanwhile
    await act(async () => finish({ id: 9 } as CaseDetail));
    const back = renderAt(<UploadForm user="clin" />);
    expect(screen.getByText('Uploaded; queued for analysis.')).toBeInTheDocument();
    const done = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(done);
    expect(done.defaultPrevented).toBe(false);
    window.removeEventListener('beforeunload', leave);
    back.unmount();
    renderAt(<UploadForm user="coord" />); // another user signed in at this workstation
    expect(screen.queryByText('Uploaded; queued for analysis.')).not.toBeInTheDocument();
    expect(screen.queryByText('brain.nii.gz')).not.toBeInTheDocument();
  });

  it('says the server is checking the scan once every byte is sent, instead of a bar stuck at 100 %', async () => {
    let finish: (c: CaseDetail) => void = () => {};
    vi.spyOn(api, 'uploadCaseWithProgress').mockImplementation(async (_files, options) => {
      options?.onProgress?.(1);
      return new Promise<CaseDetail>((resolve) => (finish = resolve));
    });
    renderAt(<UploadForm user="clin" />);
    fireEvent.change(screen.getByLabelText('Scan file'), { target: { files: [new File(['x'], 'brain.nii.gz')] } });
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Sequence' }), 't1');
    await userEvent.click(screen.getByRole('button', { name: 'Upload' }));
    expect(await screen.findByText('sent; the server is checking the scan…')).toBeInTheDocument();
    await act(async () => finish({ id: 9 } as CaseDetail));
    expect(await screen.findByText('Uploaded; queued for analysis.')).toBeInTheDocument();
  });

  it('lets the reader choose one series of a study uploaded whole, and sends the same files with that choice', async () => {
    const series = [
      { choice: 'aaa', number: 2, modality: 'MR', sequence: '*tfl3d1', acquisition: '3D', plane: 'sagittal', images: 176, slice_mm: 1 },
      { choice: 'bbb', number: 5, modality: 'MR', sequence: '*tir2d1', acquisition: '2D', plane: 'axial', images: 30, slice_mm: 5 },
      { choice: 'ccc', number: 9, modality: 'SR', sequence: '', acquisition: '', plane: '', images: 1, slice_mm: null },
    ];
    const upload = vi
      .spyOn(api, 'uploadCaseWithProgress')
      .mockRejectedValueOnce(new ApiError(422, 'The upload mixes 3 series; ...', 'The upload mixes 3 series; ...', { series }))
      .mockResolvedValueOnce({ id: 8 } as CaseDetail);
    renderAt(<UploadForm user="clin" />);
    const files = [new File(['x'], 'IM1'), new File(['y'], 'IM2')];
    fireEvent.change(screen.getByLabelText('Scan file'), { target: { files } });
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Sequence' }), 'flair');
    await userEvent.click(screen.getByRole('button', { name: 'Upload' }));

    const chooser = await screen.findByRole('group', { name: 'This upload holds 3 series. Choose the one to analyse:' });
    expect(screen.getByRole('radio', { name: 'Series 2 · *tfl3d1 · 3D · sagittal · 176 images · 1 mm' })).not.toBeChecked();
    expect(screen.getByRole('radio', { name: /Series 9 · SR · 1 images/ })).toBeDisabled(); // not MR
    const send = screen.getByRole('button', { name: 'Upload the chosen series' });
    expect(send).toBeDisabled(); // nothing chosen for the reader
    await userEvent.click(screen.getByRole('radio', { name: /Series 5 · \*tir2d1/ }));
    await userEvent.click(screen.getByRole('button', { name: 'Upload series 5' }));
    expect(await screen.findByText('Uploaded; queued for analysis.')).toBeInTheDocument();
    expect(chooser).not.toBeInTheDocument();
    expect(upload).toHaveBeenCalledTimes(2);
    expect(upload.mock.calls[1][0]).toEqual(files);
    expect(upload.mock.calls[1][1]).toMatchObject({ sequence: 'flair', series: 'bbb' });
    expect(upload.mock.calls[0][1]).toMatchObject({ series: undefined });
    // the study is in: the form is ready for the next upload
    expect(screen.getByRole('combobox', { name: 'Sequence' })).toHaveValue('');
  });

  it('sends the chosen series as the sequence chosen beside it, not the one the whole study was sent as', async () => {
    const series = [
      { choice: 'aaa', number: 2, modality: 'MR', sequence: '*tfl3d1', acquisition: '3D', plane: 'sagittal', images: 176, slice_mm: 1 },
      { choice: 'bbb', number: 5, modality: 'MR', sequence: '*tir2d1', acquisition: '2D', plane: 'axial', images: 30, slice_mm: 5 },
    ];
    const upload = vi
      .spyOn(api, 'uploadCaseWithProgress')
      .mockRejectedValueOnce(new ApiError(422, 'The upload mixes 2 series; ...', 'The upload mixes 2 series; ...', { series }))
      .mockResolvedValueOnce({ id: 8 } as CaseDetail);
    renderAt(<UploadForm user="clin" />);
    fireEvent.change(screen.getByLabelText('Scan file'), { target: { files: [new File(['x'], 'study.zip')] } });
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Sequence' }), 't1');
    await userEvent.click(screen.getByRole('button', { name: 'Upload' }));
    const ofSeries = await screen.findByRole('combobox', { name: 'Sequence of this series' });
    expect(ofSeries).toHaveValue('t1'); // what the study was sent as, to start with
    await userEvent.click(screen.getByRole('radio', { name: /Series 5 · \*tir2d1/ }));
    await userEvent.selectOptions(ofSeries, 'flair');
    await userEvent.click(screen.getByRole('button', { name: 'Upload series 5' }));
    expect(await screen.findByText('Uploaded; queued for analysis.')).toBeInTheDocument();
    expect(upload.mock.calls[1][1]).toMatchObject({ sequence: 'flair', series: 'bbb' });
  });

  it('offers a sequence no model reads for the rescan checks alone, says what that leaves out, and sends it', async () => {
    vi.spyOn(api, 'models').mockResolvedValue(
      catalogueOf(
        [
          ['fast', 't1'],
          ['fast', 'flair'],
        ],
        ['fast'],
      ),
    );
    const upload = vi.spyOn(api, 'uploadCaseWithProgress').mockResolvedValue({ id: 3 } as CaseDetail);
    renderAt(<UploadForm user="clin" />);
    const t2 = await screen.findByRole('option', { name: 'T2 (rescan checks only)' });
    expect(t2).toBeEnabled();
    expect(screen.getByRole('option', { name: 'FLAIR' })).toBeEnabled();
    expect(screen.queryByTestId('checks-only-note')).not.toBeInTheDocument();
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Sequence' }), t2);
    expect(screen.getByTestId('checks-only-note')).toHaveTextContent(/not screened for lesions/);
    fireEvent.change(screen.getByLabelText('Scan file'), { target: { files: [new File(['x'], 'a.nii.gz')] } });
    await userEvent.click(screen.getByRole('button', { name: 'Upload' }));
    await waitFor(() => expect(upload).toHaveBeenCalledTimes(1));
    expect(upload.mock.calls[0][1]).toMatchObject({ sequence: 't2' });
  });

  it('never switches the sequence for the reader: one only another profile reads is stopped with a reason', async () => {
    vi.spyOn(api, 'models').mockResolvedValue(
      catalogueOf([
        ['fast', 'flair'],
        ['paper', 't1'],
        ['paper', 't2'],
      ]),
    );
    const upload = vi.spyOn(api, 'uploadCaseWithProgress').mockResolvedValue({ id: 3 } as CaseDetail);
    renderAt(<UploadForm user="clin" />);
    expect(await screen.findByRole('option', { name: 'T1 (no fast-profile model installed)' })).toBeDisabled();
    // nothing is chosen for the reader: not the first sequence, not one that would run
    expect(screen.getByRole('combobox', { name: 'Sequence' })).toHaveValue('');
    fireEvent.change(screen.getByLabelText('Scan file'), { target: { files: [new File(['x'], 'a.nii.gz')] } });
    await userEvent.click(screen.getByRole('button', { name: 'Upload' }));
    expect(await screen.findByText(/Choose the scan’s sequence \(T1, T2 or FLAIR\)/)).toBeInTheDocument();
    expect(upload).not.toHaveBeenCalled();
  });
});
