/**
 * NiiVue builds a 3D gradient texture (two shader passes over every slice of the scan) each time
 * the scan layer is loaded, but only a 3D render reads it. Without a GPU those passes cost about
 * half a second of the first view, so our patched NiiVue (frontend/patches) skips them while
 * `deferGradient` is set and the view is 2D, marking the texture stale; the viewer builds it
 * here just before it switches to the 3D render.
 */

/** The part of a (patched) Niivue instance this module touches. */
export interface GradientHost {
  deferGradient?: boolean;
  gradientStale?: boolean;
  volumes: { hdr: unknown }[];
  gradientGL(hdr: unknown): void;
}

export function deferGradient(nv: GradientHost): void {
  nv.deferGradient = true;
}

/** Build the scan's gradient texture if a 2D load left it stale; true when it did. */
export function ensureGradient(nv: GradientHost): boolean {
  if (!nv.gradientStale || nv.volumes.length === 0) return false;
  nv.gradientGL(nv.volumes[0].hdr);
  nv.gradientStale = false;
  return true;
}
