import sharp from 'sharp';
import { cellExtent } from '../../../shared/index.ts';

/** A photo of the same cell as another device or person might frame it, re-encoded as JPEG. */
export interface Reframing {
  name: string;
  bytes: Uint8Array;
}

/** The white cell's diameter is about four times the spread of its stained pixels (checked by eye on the sample). */
const DIAMETER_PER_RADIUS = 4;

/**
 * Re-framings of one photo: square crops around its stained cell with the cell filling
 * `fills` of the crop's side, the frame padded larger (letterboxed in black), and the whole
 * photo at other resolutions. Each is encoded as a quality-92 JPEG, as a camera would send it.
 */
export async function reframe(
  bytes: Uint8Array,
  fills = [0.4, 0.55, 0.7, 0.9],
  scales = [0.5, 0.75, 1.5, 2],
): Promise<Reframing[]> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  const cell = cellExtent({ data, width, height, channels: 3 });
  if (!cell) throw new Error('no stained cell in the photo');
  const jpeg = (image: sharp.Sharp) => image.jpeg({ quality: 92 }).toBuffer().then((b) => new Uint8Array(b));
  const raw = () => sharp(data, { raw: { width, height, channels: 3 } });
  const out: Reframing[] = [];
  for (const fill of fills) {
    const side = Math.min(width, height, Math.round((DIAMETER_PER_RADIUS * cell.radius) / fill));
    const left = Math.round(Math.min(Math.max(cell.x - side / 2, 0), width - side));
    const top = Math.round(Math.min(Math.max(cell.y - side / 2, 0), height - side));
    out.push({ name: `square crop, cell ${Math.round(fill * 100)}%`, bytes: await jpeg(raw().extract({ left, top, width: side, height: side })) });
  }
  const pad = Math.round(Math.min(width, height) / 4);
  out.push({ name: 'padded frame', bytes: await jpeg(raw().extend({ top: pad, bottom: pad, left: pad, right: pad, background: { r: 0, g: 0, b: 0 } })) });
  for (const scale of scales) {
    const size = { width: Math.round(width * scale), height: Math.round(height * scale) };
    out.push({ name: `resolution x${scale}`, bytes: await jpeg(raw().resize({ ...size, kernel: 'lanczos3' })) });
  }
  return out;
}
