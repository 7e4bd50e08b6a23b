// The warm-up's photo is embedded (the Worker cannot read files); it must stay the sample photo
// its comment names, so the warm-up keeps running the codec on what devices send.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WARM_UP_JPEG_BASE64 } from '../../worker/warm-up-image.ts';

describe('warm-up photo', () => {
  it('is data/sample/LYMPHOCYTE/_0_1349.jpeg, byte for byte', () => {
    const sample = readFileSync(new URL('../../data/sample/LYMPHOCYTE/_0_1349.jpeg', import.meta.url));
    expect(Buffer.from(WARM_UP_JPEG_BASE64, 'base64').equals(sample)).toBe(true);
  });
});
