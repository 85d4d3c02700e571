import { Niivue } from '@niivue/niivue';
import { describe, expect, it, vi } from 'vitest';
import { deferGradient, ensureGradient, type GradientHost } from './gradient';

function host(stale: boolean | undefined, volumes = 1): GradientHost {
  return {
    gradientStale: stale,
    volumes: Array.from({ length: volumes }, (_, i) => ({ hdr: { layer: i } })),
    gradientGL: vi.fn(),
  };
}

describe('deferred gradient texture', () => {
  it('builds the gradient from the scan layer once when a 2D load left it stale', () => {
    const nv = host(true, 3);
    expect(ensureGradient(nv)).toBe(true);
    expect(nv.gradientGL).toHaveBeenCalledExactlyOnceWith({ layer: 0 });
    expect(ensureGradient(nv)).toBe(false);
    expect(nv.gradientGL).toHaveBeenCalledTimes(1);
  });

  it('does nothing when the gradient is current or nothing is loaded', () => {
    for (const nv of [host(false), host(undefined), host(true, 0)]) {
      expect(ensureGradient(nv)).toBe(false);
      expect(nv.gradientGL).not.toHaveBeenCalled();
    }
  });

  it('runs against the patched NiiVue (npm ci applies frontend/patches)', () => {
    // Without the patch deferGradient would be ignored and every load would pay for the gradient.
    const source = Niivue.prototype.refreshLayers.toString();
    expect(source).toContain('this.deferGradient');
    expect(source).toContain('this.gradientStale = true');
    const nv = { volumes: [] } as unknown as GradientHost;
    deferGradient(nv);
    expect(nv.deferGradient).toBe(true);
  });
});
