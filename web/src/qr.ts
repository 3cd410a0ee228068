// A text as a QR code the page can draw: uqr (a dependency-free port of Project Nayuki's generator) encodes it,
// and the dark modules become one SVG path, so the picture is plain markup under the app's CSP.
import { encode } from 'uqr';

/** Light modules around the code: the four a reader needs to find it (ISO/IEC 18004's quiet zone). */
export const QUIET_ZONE = 4;

export interface QrPicture {
  /** Modules per side, the quiet zone included: the SVG's viewBox is `0 0 size size`. */
  size: number;
  /** The dark modules as SVG path data, one unit per module. */
  path: string;
}

/** `true` for a dark module, row by row. */
export type Modules = readonly (readonly boolean[])[];

/**
 * The text's QR code with error correction level M (about 15% of it may be unreadable, a phone's glare or a
 * smudged screen), which keeps a BR Code of a few hundred characters to a size a phone reads easily.
 */
export function qrModules(text: string): Modules {
  return encode(text, { ecc: 'M', border: QUIET_ZONE }).data;
}

/** Each row's runs of dark modules as rectangles one module high: a few hundred path commands, not thousands. */
export function darkPath(modules: Modules): string {
  const commands: string[] = [];
  modules.forEach((row, y) => {
    let x = 0;
    while (x < row.length) {
      if (!row[x]) {
        x += 1;
        continue;
      }
      const start = x;
      while (x < row.length && row[x]) {
        x += 1;
      }
      commands.push(`M${start} ${y}h${x - start}v1h-${x - start}z`);
    }
  });
  return commands.join('');
}

export function qrPicture(text: string): QrPicture {
  const modules = qrModules(text);
  return { size: modules.length, path: darkPath(modules) };
}
