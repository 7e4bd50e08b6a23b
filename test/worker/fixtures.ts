import type { PixelTest } from '../../shared/index.ts';

/** One sample photo with what the Node path (`npm run evaluate`'s) computes for it. */
export interface SampleFixture {
  path: string;
  label: string;
  base64: string;
  /** Probabilities in manifest class order, from sharp + shared preprocess + tfjs cpu. */
  expected: number[];
  /** The shared domain score of the photo as the trainer decodes it; null without a profile. */
  domainScore: number | null;
}

export interface ModelFixture {
  dir: string;
  version: string;
  manifestBase64: string;
  files: Record<string, string>;
}

// What global-setup.ts (Node) hands to the tests in workerd, which have no file system.
declare module 'vitest' {
  interface ProvidedContext {
    model: ModelFixture;
    /** The default model's pixel test, as the trainer's recordPixelTest makes it (on tfjs cpu, in Node). */
    pixelTest: PixelTest;
    /** A model of each trainer architecture other than the default model's, by architecture. */
    otherArchitectures: Record<string, ModelFixture>;
    samples: SampleFixture[];
    /** Re-encoded samples carrying EXIF orientation tags, with the Node path's expectations. */
    oriented: SampleFixture[];
    /** Photos of the sample re-framed: square crops round the cell, padded, other resolutions. */
    reframed: SampleFixture[];
    /** Images made with sharp for format and limit tests, base64. */
    images: {
      /** The first sample as the model's JPEG decode sees it, losslessly re-encoded. */
      asSeen: { png: string; webp: string };
      png: string; webp: string; webpLossy: string; webpAlpha: string; wide: string; flopped: string; tiny: string; pngOf: string;
      /** 1024x1024 and 1024x1025 PNGs: at the per-image pixel limit and one row over it. */
      pixelLimit: { at: string; over: string };
      /** 320x240 PNGs unlike the training photos: blank frames, a grayscale copy of the first sample, its cell magnified 2x, a landscape. */
      unlike: Record<'white' | 'black' | 'grey' | 'purple' | 'grayscale' | 'magnified' | 'landscape', string>;
    };
  }
}
