import jsQR from 'jsqr';
import { describe, expect, it } from 'vitest';
import { darkPath, type Modules, qrModules, qrPicture, QUIET_ZONE } from './qr';

// A BR Code as the local PSP makes them (pix/brcode.py's dynamic_brcode: a charge's location, CRC16 at the end).
const BR_CODE =
  '00020101021226760014br.gov.bcb.pix2554127.0.0.1:8002/v2/loc/7f3e2a1c9b8d4e6f8a1b2c3d4e5f6a7b5204000053039865802BR' +
  '5916Vehicle Platform6009Sao Paulo62070503***63048442';

/** The modules as the RGBA picture a camera would give, `scale` pixels a module. */
function photograph(modules: Modules, scale: number): { pixels: Uint8ClampedArray; side: number } {
  const side = modules.length * scale;
  const pixels = new Uint8ClampedArray(side * side * 4);
  for (let y = 0; y < side; y += 1) {
    for (let x = 0; x < side; x += 1) {
      const shade = modules[Math.floor(y / scale)]?.[Math.floor(x / scale)] ? 0 : 255;
      pixels.set([shade, shade, shade, 255], (y * side + x) * 4);
    }
  }
  return { pixels, side };
}

/** The 7×7 finder pattern: a dark ring, a light ring, a dark 3×3 core. */
function isFinderAt(modules: Modules, left: number, top: number): boolean {
  for (let y = 0; y < 7; y += 1) {
    for (let x = 0; x < 7; x += 1) {
      const ring = Math.max(Math.abs(x - 3), Math.abs(y - 3));
      if (modules[top + y]?.[left + x] !== (ring !== 2)) {
        return false;
      }
    }
  }
  return true;
}

describe('qrModules', () => {
  it('reads back as the exact BR Code', () => {
    const { pixels, side } = photograph(qrModules(BR_CODE), 4);
    expect(jsQR(pixels, side, side)?.data).toBe(BR_CODE);
  });

  it('draws a square code with its three finder patterns inside a light quiet zone', () => {
    const modules = qrModules(BR_CODE);
    const size = modules.length;
    expect(modules.every((row) => row.length === size)).toBe(true);
    const last = size - QUIET_ZONE - 7;
    expect(isFinderAt(modules, QUIET_ZONE, QUIET_ZONE)).toBe(true);
    expect(isFinderAt(modules, last, QUIET_ZONE)).toBe(true);
    expect(isFinderAt(modules, QUIET_ZONE, last)).toBe(true);
    expect(isFinderAt(modules, last, last)).toBe(false);
    for (let i = 0; i < size; i += 1) {
      for (let band = 0; band < QUIET_ZONE; band += 1) {
        const far = size - 1 - band;
        expect([modules[band]?.[i], modules[far]?.[i], modules[i]?.[band], modules[i]?.[far]]).toEqual([
          false,
          false,
          false,
          false,
        ]);
      }
    }
  });

  it('fits a BR Code in a version a phone reads at a glance, the same code every time', () => {
    const modules = qrModules(BR_CODE);
    // 17 + 4 × version modules a side, plus the quiet zone on both sides.
    const version = (modules.length - 2 * QUIET_ZONE - 17) / 4;
    expect(Number.isInteger(version)).toBe(true);
    expect(version).toBeGreaterThanOrEqual(6);
    expect(version).toBeLessThanOrEqual(10);
    expect(qrModules(BR_CODE)).toEqual(modules);
    expect(qrModules(BR_CODE.replace('7f3e', '7f3f'))).not.toEqual(modules);
  });
});

describe('darkPath', () => {
  it('draws each run of dark modules as one rectangle', () => {
    const modules = [
      [true, true, false, true],
      [false, false, false, false],
      [false, true, true, true],
    ];
    expect(darkPath(modules)).toBe('M0 0h2v1h-2zM3 0h1v1h-1zM1 2h3v1h-3z');
  });

  it('draws nothing for an all-light grid', () => {
    expect(
      darkPath([
        [false, false],
        [false, false],
      ]),
    ).toBe('');
  });
});

describe('qrPicture', () => {
  it('gives the viewBox size and the path of the same code', () => {
    const picture = qrPicture(BR_CODE);
    const modules = qrModules(BR_CODE);
    expect(picture.size).toBe(modules.length);
    expect(picture.path).toBe(darkPath(modules));
  });
});
