import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createRef } from 'react';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { Readout, ViewerHandle } from './Viewer';
import { DEFAULT_OVERLAY } from '../lib/overlay';

// NiiVue needs WebGL2, which jsdom lacks: a stand-in that reports the crosshair as NiiVue does (synchronously, from
// its own click and key handlers, and once from the viewer after loading)
class FakeNiivue {
  static last: FakeNiivue | null = null;
  volumes: unknown[] = [];
  scene = { crosshairPos: [0.5, 0.5, 0.5] };
  mm: number[] = [0, -16.5, 6];
  onLocationChange: (loc: unknown) => void = () => {};
  onIntensityChange: (vol: unknown) => void = () => {};
  constructor() {
    FakeNiivue.last = this;
  }
  attachToCanvas = async () => undefined;
  setSliceType() {}
  addVolume(v: unknown) {
    this.volumes.push(v);
  }
  drawScene() {}
  updateGLVolume() {}
  cleanup() {}
  mm2frac(mm: number[]) {
    this.mm = mm;
    return mm;
  }
  moveCrosshairInVox(_x: number, _y: number, z: number) {
    this.mm = [this.mm[0], this.mm[1], this.mm[2] + z];
    this.createOnLocationChange();
  }
  createOnLocationChange() {
    this.onLocationChange({ mm: this.mm, vox: [1, 2, 3], values: [{ value: 1 }] });
  }
}

vi.mock('@niivue/niivue', () => ({
  Niivue: FakeNiivue,
  NVImage: { loadFromUrl: vi.fn(async ({ name }: { name: string }) => ({ name, img: new Uint8Array(1), cal_min: 0, cal_max: 1 })) },
  SHOW_RENDER: { NEVER: 0 },
  SLICE_TYPE: { MULTIPLANAR: 3, RENDER: 4 },
}));
const takeCaseFile = vi.fn(async () => new ArrayBuffer(1));
vi.mock('../lib/filePrefetch', () => ({ takeCaseFile: (...args: unknown[]) => takeCaseFile(...(args as [])) }));

const { Viewer } = await import('./Viewer');

beforeEach(() => takeCaseFile.mockClear());

function renderViewer(onLocation: (r: Readout) => void, withOverlay = true) {
  const ref = createRef<ViewerHandle>();
  render(
    <Viewer ref={ref} caseId={5} withOverlay={withOverlay} overlay={DEFAULT_OVERLAY} render3d={false} onLocation={onLocation} />,
  );
  return ref;
}

const last = (spy: ReturnType<typeof vi.fn>) => spy.mock.calls[spy.mock.calls.length - 1][0] as Readout;

describe('Viewer crosshair readout', () => {
  it('reports the crosshair where the scan opened as not placed, and as placed once the reader clicks in the image', async () => {
    const onLocation = vi.fn();
    renderViewer(onLocation);
    await waitFor(() => expect(onLocation).toHaveBeenCalled());
    expect(last(onLocation)).toMatchObject({ mm: [0, -16.5, 6], placed: false });
    const nv = FakeNiivue.last!;

    // stepping through slices keeps the point in the slice where it was: still not placed
    act(() => nv.moveCrosshairInVox(0, 0, 1));
    expect(last(onLocation)).toMatchObject({ mm: [0, -16.5, 7], placed: false });

    // a right-button drag sets the contrast, not the point
    const canvas = screen.getByRole('img', { name: 'Image viewer' });
    fireEvent.pointerDown(canvas, { button: 2 });
    act(() => nv.createOnLocationChange());
    expect(last(onLocation).placed).toBe(false);
    fireEvent.pointerUp(canvas, { button: 2 });

    // a left click: NiiVue moves the crosshair from its own mouse handler, after our capture listener
    fireEvent.pointerDown(canvas, { button: 0 });
    nv.mm = [12, 4, 7];
    act(() => nv.createOnLocationChange());
    expect(last(onLocation)).toMatchObject({ mm: [12, 4, 7], placed: true });
    fireEvent.pointerUp(canvas, { button: 0 });
    // and it stays placed as the reader steps on through the slices
    act(() => nv.moveCrosshairInVox(0, 0, 1));
    expect(last(onLocation)).toMatchObject({ mm: [12, 4, 8], placed: true });
  });

  it('counts a crosshair moved by keyboard in the image, or by a Go to button, as placed', async () => {
    const onLocation = vi.fn();
    renderViewer(onLocation);
    await waitFor(() => expect(onLocation).toHaveBeenCalled());
    const canvas = screen.getByRole('img', { name: 'Image viewer' });
    const nv = FakeNiivue.last!;
    canvas.addEventListener('keydown', () => nv.createOnLocationChange());
    fireEvent.keyDown(canvas, { key: 'ArrowLeft' });
    expect(last(onLocation).placed).toBe(true);

    const other = vi.fn();
    const second = renderViewer(other);
    await waitFor(() => expect(other).toHaveBeenCalled());
    expect(last(other).placed).toBe(false);
    act(() => second.current!.gotoMM([10, 20, 30]));
    expect(last(other)).toMatchObject({ mm: [10, 20, 30], placed: true });
  });
});

describe('Viewer loads', () => {
  it('asks for the scan alone when the case has no anomaly map', async () => {
    const onLocation = vi.fn();
    renderViewer(onLocation, false);
    await waitFor(() => expect(onLocation).toHaveBeenCalled());
    expect(takeCaseFile.mock.calls.map((c) => (c as unknown[])[1])).toEqual(['scan']);
  });
});
