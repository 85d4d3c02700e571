import { describe, expect, it } from 'vitest';
import { scanFacts } from './scanFacts';

describe('scanFacts', () => {
  it('reads a DICOM series as a radiologist would, marking a shifted date', () => {
    const facts = scanFacts({
      source_format: 'dicom',
      dicom_meta: {
        modality: 'MR',
        sequence_name: '*tfl3d1_16ns',
        scanning_sequence: 'GR\\IR',
        acquisition_type: '3D',
        acquisition_date: '2031-04-17',
        acquisition_date_shifted: 'yes',
        manufacturer: 'SIEMENS',
        scanner_model: 'Prisma',
        field_strength_t: '2.89362',
        echo_time_ms: '2.26',
        repetition_time_ms: '2300.0',
      },
    });
    expect(facts).toEqual([
      ['Uploaded as', 'DICOM series'],
      ['Acquired', '2031-04-17 (shifted per patient)'],
      ['Scanner', 'SIEMENS Prisma 2.89 T'],
      ['Sequence', '*tfl3d1_16ns (GR\\IR) 3D'],
      ['TE / TR', 'TE 2.26 ms · TR 2300 ms'],
    ]);
  });

  it('leaves out what the series did not say, and an unshifted date is plain', () => {
    const facts = scanFacts({
      source_format: 'dicom',
      dicom_meta: { acquisition_date: '2026-11-30', acquisition_date_shifted: 'no', repetition_time_ms: '9000' },
    });
    expect(facts).toEqual([
      ['Uploaded as', 'DICOM series'],
      ['Acquired', '2026-11-30'],
      ['TE / TR', 'TR 9000 ms'],
    ]);
  });

  it('has nothing but the format for a NIfTI upload', () => {
    expect(scanFacts({ source_format: 'nifti', dicom_meta: {} })).toEqual([['Uploaded as', 'NIfTI file']]);
  });
});
