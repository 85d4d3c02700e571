import { forwardRef, useEffect, useImperativeHandle, useRef, useState } from 'react';
import { Niivue, NVImage, SHOW_RENDER, SLICE_TYPE, type NiiVueLocation } from '@niivue/niivue';
import { takeCaseFile } from '../lib/filePrefetch';
import { deferGradient, ensureGradient, type GradientHost } from '../lib/gradient';
import { errorMessage } from '../api/errors';
import { applyOverlay, configureOverlay, redrawOverlays, type OverlaySettings } from '../lib/overlay';
import { applyMaskMode, maxLabel, type MaskLayer, type MaskMode, type VoxelArray } from '../lib/labelMask';
import { fromWindowLevel, toWindowLevel, type WindowLevel, type WindowRange } from '../lib/windowLevel';

declare global {
  interface Window {
    /** The case viewer's NiiVue instance (for end-to-end tests and debugging). */
    __niivue?: Niivue;
  }
}

export interface Readout {
  mm: number[];
  vox: number[];
  scan: number | null;
  anomaly: number | null;
  /**
   * True once the reader has put the crosshair on a point of this case: a click or drag in the image, a crosshair
   * move by keyboard in the image, or a "Go to" (flag, weak region, finding). False where it is still where the scan
   * opened (the volume centre) or only stepped through slices (↑ / ↓, the wheel), which leaves the point in the
   * slice where it was. A finding is marked only at a placed crosshair.
   */
  placed: boolean;
}

export interface ViewerHandle {
  /** Moves the crosshair to a world position (mm). */
  gotoMM(mm: readonly number[]): void;
  /** Steps the axial slice by `delta` voxels. */
  stepSlice(delta: number): void;
  /** Sets the scan's display range (window/level). */
  setWindowLevel(wl: WindowLevel): void;
  /** Back to the display range chosen when the scan was loaded. */
  resetWindow(): void;
}

/** The scan's current window/level and its data range (null until the scan is loaded). */
export interface WindowState {
  wl: WindowLevel;
  range: WindowRange;
}

export type MaskStatus = 'none' | 'loading' | 'ready' | 'error';

interface Props {
  caseId: number;
  /** Load the anomaly map as an overlay (only once the job has produced it). */
  withOverlay: boolean;
  overlay: OverlaySettings;
  render3d: boolean;
  onLocation?: (r: Readout) => void;
  /** Load the flag mask (anomaly_mask, label k = flag k) as a third volume. */
  withMask?: boolean;
  /** The finished result has no maps (rescan checks only): the scan alone is the whole view. */
  scanOnly?: boolean;
  maskMode?: MaskMode;
  /** Label of the selected flag, highlighted in the mask. */
  selectedLabel?: number | null;
  /** Called when the scan's window/level changes (load, right-drag, controls). */
  onWindow?: (w: WindowState | null) => void;
  onMaskStatus?: (s: MaskStatus) => void;
}

function toReadout(loc: NiiVueLocation, placed: boolean): Readout {
  const values = loc.values ?? [];
  return {
    placed,
    mm: Array.from(loc.mm ?? []).slice(0, 3),
    vox: Array.from(loc.vox ?? values[0]?.vox ?? []).slice(0, 3),
    scan: values[0] && Number.isFinite(values[0].value) ? values[0].value : null,
    anomaly: values[1] && Number.isFinite(values[1].value) ? values[1].value : null,
  };
}

type ViewerMask = MaskLayer<Niivue['volumes'][number]>;

/** Shows the mask layer in a mode, with the selected label highlighted, and redraws the overlays. */
function applyMask(nv: Niivue, layer: ViewerMask, mode: MaskMode, selected: number | null): void {
  applyMaskMode(layer as unknown as MaskLayer, mode, selected);
  redrawOverlays(nv);
}

const maskKey = (mode: MaskMode, selected: number | null) => `${mode}/${selected ?? ''}`;

/** A volume from bytes we fetched (with the session cookie); `name` gives NiiVue the format. */
function imageFromBytes(bytes: ArrayBuffer, name: string, options: Record<string, unknown> = {}): Promise<NVImage> {
  // NVImage.loadFromUrl takes the bytes as `url` when they are an ArrayBuffer.
  return NVImage.loadFromUrl({ url: bytes as unknown as string, name, ...options });
}

export const Viewer = forwardRef<ViewerHandle, Props>(function Viewer(
  {
    caseId,
    withOverlay,
    overlay,
    render3d,
    onLocation,
    withMask = false,
    scanOnly = false,
    maskMode = 'outline',
    selectedLabel = null,
    onWindow,
    onMaskStatus,
  },
  ref,
) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const nvRef = useRef<Niivue | null>(null);
  const attached = useRef<Promise<void> | null>(null);
  const overlayRef = useRef(overlay);
  overlayRef.current = overlay;
  const onLocationRef = useRef(onLocation);
  onLocationRef.current = onLocation;
  /** the reader has placed the crosshair (see `Readout.placed`); kept across reloads of the same result */
  const placedRef = useRef(false);
  /** a primary-button press or a key is being handled in the image: the location it reports is the reader's */
  const pointing = useRef(false);
  const keying = useRef(false);
  const onWindowRef = useRef(onWindow);
  onWindowRef.current = onWindow;
  const maskRef = useRef<ViewerMask | null>(null);
  const maskModeRef = useRef(maskMode);
  maskModeRef.current = maskMode;
  const selectedRef = useRef(selectedLabel);
  selectedRef.current = selectedLabel;
  const rangeRef = useRef<WindowRange | null>(null);
  /** Mode and selection the mask layer was last drawn with (skips redundant redraws). */
  const appliedMaskRef = useRef('');
  const [maskStatus, setMaskStatus] = useState<MaskStatus>('none');
  const onMaskStatusRef = useRef(onMaskStatus);
  onMaskStatusRef.current = onMaskStatus;
  useEffect(() => onMaskStatusRef.current?.(maskStatus), [maskStatus]);

  /** Reports the scan's window/level to the page. */
  const reportWindow = useRef(() => {
    const nv = nvRef.current;
    const scan = nv?.volumes[0];
    const range = rangeRef.current;
    if (!scan || !range) return onWindowRef.current?.(null);
    onWindowRef.current?.({ wl: toWindowLevel(scan.cal_min ?? 0, scan.cal_max ?? 1), range });
  }).current;

  const [ready, setReady] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [reloadKey, setReloadKey] = useState(0);

  // one NiiVue per mounted viewer
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const nv = new Niivue({
      backColor: [0, 0, 0, 1],
      crosshairColor: [0.15, 0.75, 1, 0.9],
      crosshairWidth: 1,
      // leave the voxel under the crosshair visible (a flag's centroid is what the reader looks at)
      crosshairGap: 12,
      show3Dcrosshair: true,
      isColorbar: false,
      loadingText: '',
      dragAndDropEnabled: false,
      isResizeCanvas: true,
      // The four-pane view's volume render costs seconds without a GPU; the 3D toggle still shows it.
      multiplanarShowRender: SHOW_RENDER.NEVER,
    });
    deferGradient(nv as unknown as GradientHost);
    nv.onLocationChange = (loc: unknown) => {
      if (pointing.current || keying.current) placedRef.current = true;
      onLocationRef.current?.(toReadout(loc as NiiVueLocation, placedRef.current));
    };
    // NiiVue may set the crosshair on the mouseup that follows the pointerup: clear the press after both
    const release = () => window.setTimeout(() => (pointing.current = false), 0);
    window.addEventListener('pointerup', release, true);
    window.addEventListener('pointercancel', release, true);
    // right-drag contrast changes the scan's cal_min/cal_max
    nv.onIntensityChange = (vol) => {
      if (vol === nv.volumes[0]) reportWindow();
    };
    nvRef.current = nv;
    window.__niivue = nv;
    attached.current = nv.attachToCanvas(canvas).then(() => {
      nv.setSliceType(SLICE_TYPE.MULTIPLANAR);
    });
    return () => {
      window.removeEventListener('pointerup', release, true);
      window.removeEventListener('pointercancel', release, true);
      attached.current = null;
      nvRef.current = null;
      if (window.__niivue === nv) delete window.__niivue;
      try {
        nv.cleanup();
      } catch {
        /* ignore */
      }
    };
  }, []);

  // (re)load the volumes for this case: scan, anomaly map and flag mask are decoded first, then
  // handed to NiiVue together so its layers (and the scan's 3D gradient) are built once, not per volume.
  useEffect(() => {
    const ctrl = new AbortController();
    let cancelled = false;
    setReady(false);
    setLoading(true);
    setError(null);
    maskRef.current = null;
    rangeRef.current = null;
    const shown = nvRef.current;
    if (shown && shown.volumes.length > 0) {
      // never leave the previous case on screen under this case's label
      shown.volumes = [];
      shown.drawScene();
    }
    setMaskStatus(withOverlay && withMask ? 'loading' : 'none');
    onWindowRef.current?.(null);
    (async () => {
      try {
        const [scanBytes, mapBytes, maskBytes] = await Promise.all([
          takeCaseFile(caseId, 'scan', ctrl.signal),
          withOverlay ? takeCaseFile(caseId, 'anomaly_map', ctrl.signal) : Promise.resolve(null),
          // a missing mask must not cost the reader the scan and the map
          withOverlay && withMask
            ? takeCaseFile(caseId, 'anomaly_mask', ctrl.signal).catch(() => null)
            : Promise.resolve(null),
        ]);
        performance.mark('nt:files-fetched', { detail: { caseId } });
        const [scanVol, mapVol, maskVol] = await Promise.all([
          imageFromBytes(scanBytes, 'scan.nii.gz', { colormap: 'gray' }),
          mapBytes ? imageFromBytes(mapBytes, 'anomaly_map.nii.gz', { colormap: overlayRef.current.colormap }) : null,
          maskBytes ? imageFromBytes(maskBytes, 'anomaly_mask.nii.gz').catch(() => null) : null,
        ]);
        performance.mark('nt:volumes-decoded', { detail: { caseId } });
        await attached.current;
        const nv = nvRef.current;
        if (cancelled || !nv) return;
        const layers: NVImage[] = [scanVol];
        if (mapVol) {
          configureOverlay(mapVol, overlayRef.current);
          layers.push(mapVol);
          if (maskVol) {
            const fill = maskVol.img as VoxelArray;
            const layer: ViewerMask = { vol: maskVol, fill, outline: null, nLabels: maxLabel(fill) };
            applyMaskMode(layer as unknown as MaskLayer, maskModeRef.current, selectedRef.current);
            appliedMaskRef.current = maskKey(maskModeRef.current, selectedRef.current);
            maskRef.current = layer;
            layers.push(maskVol);
          }
        }
        // NiiVue rebuilds all layers on every addVolume; adding only the last one does it once.
        nv.volumes = layers.slice(0, -1);
        nv.addVolume(layers[layers.length - 1]);
        if (cancelled) return;
        const lo = scanVol.cal_min ?? 0;
        const hi = scanVol.cal_max ?? 1;
        rangeRef.current = {
          min: Math.min(scanVol.global_min ?? lo, lo),
          max: Math.max(scanVol.global_max ?? hi, hi),
          defaultMin: lo,
          defaultMax: hi,
        };
        reportWindow();
        nv.createOnLocationChange();
        // ready once everything the case has is drawn: scan and map, or the scan alone where there is no map to
        // wait for (a checks-only result); a case still being analysed is not ready
        const complete = withOverlay ? nv.volumes.length >= 2 : scanOnly;
        if (complete) performance.mark('nt:viewer-ready', { detail: { caseId } });
        if (withOverlay && withMask) setMaskStatus(maskRef.current ? 'ready' : 'error');
        setReady(complete);
        setLoading(false);
      } catch (e) {
        if (cancelled || (e instanceof DOMException && e.name === 'AbortError')) return;
        setError(errorMessage(e));
        setMaskStatus((m) => (m === 'loading' ? 'none' : m));
        setLoading(false);
      }
    })();
    return () => {
      cancelled = true;
      ctrl.abort();
    };
  }, [caseId, withOverlay, withMask, scanOnly, reloadKey]);

  // overlay settings changes
  useEffect(() => {
    const nv = nvRef.current;
    if (nv && nv.volumes.length > 1) applyOverlay(nv, overlay);
  }, [overlay]);

  useEffect(() => {
    const nv = nvRef.current;
    const layer = maskRef.current;
    const key = maskKey(maskMode, selectedLabel);
    if (!nv || !layer || maskStatus !== 'ready' || appliedMaskRef.current === key) return;
    appliedMaskRef.current = key;
    applyMask(nv, layer, maskMode, selectedLabel);
  }, [maskMode, selectedLabel, maskStatus]);

  useEffect(() => {
    const nv = nvRef.current;
    if (!nv) return;
    void attached.current?.then(() => {
      if (render3d) ensureGradient(nv as unknown as GradientHost);
      nv.setSliceType(render3d ? SLICE_TYPE.RENDER : SLICE_TYPE.MULTIPLANAR);
    });
  }, [render3d]);

  useImperativeHandle(
    ref,
    () => ({
      gotoMM(mm) {
        const nv = nvRef.current;
        if (!nv || nv.volumes.length === 0 || mm.length < 3) return;
        placedRef.current = true;
        nv.scene.crosshairPos = nv.mm2frac([mm[0], mm[1], mm[2]]);
        nv.createOnLocationChange();
        nv.updateGLVolume();
      },
      stepSlice(delta) {
        const nv = nvRef.current;
        if (!nv || nv.volumes.length === 0) return;
        nv.moveCrosshairInVox(0, 0, delta);
      },
      setWindowLevel(wl) {
        const nv = nvRef.current;
        const scan = nv?.volumes[0];
        if (!nv || !scan || !rangeRef.current) return;
        const { cal_min, cal_max } = fromWindowLevel(wl, rangeRef.current);
        scan.cal_min = cal_min;
        scan.cal_max = cal_max;
        nv.updateGLVolume();
        reportWindow();
      },
      resetWindow() {
        const nv = nvRef.current;
        const scan = nv?.volumes[0];
        const r = rangeRef.current;
        if (!nv || !scan || !r) return;
        scan.cal_min = r.defaultMin;
        scan.cal_max = r.defaultMax;
        nv.updateGLVolume();
        reportWindow();
      },
    }),
    [],
  );

  return (
    <div
      className="viewer"
      data-viewer-ready={ready ? 'true' : 'false'}
      data-overlay={withOverlay ? 'true' : 'false'}
      data-mask={maskStatus}
      aria-busy={loading}
      // capture: seen before NiiVue's own handlers on the canvas move the crosshair
      onPointerDownCapture={(e) => {
        if (e.button === 0) pointing.current = true;
      }}
      onKeyDownCapture={() => {
        keying.current = true;
        window.setTimeout(() => (keying.current = false), 0);
      }}
    >
      <canvas ref={canvasRef} aria-label="Image viewer" role="img" />
      {loading && !error && (
        <div className="viewer-msg">
          Loading images…
        </div>
      )}
      {error && (
        <div className="viewer-msg error" role="alert">
          Could not load the images: {error}{' '}
          <button type="button" onClick={() => setReloadKey((k) => k + 1)}>
            Retry loading images
          </button>
        </div>
      )}
    </div>
  );
});
