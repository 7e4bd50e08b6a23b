export type HeavyFormat = 'jpeg' | 'png' | 'webp';

// What vitest.config.ts and heavy-setup.ts hand to the suite in workerd.
declare module 'vitest' {
  interface ProvidedContext {
    stress: { seed: number; loadSeconds: number };
    /** Heavy but legal images, base64: photo-like content at a 32-part batch's share (512x512) and at the per-image limit (1024x1024); and a tiny WebP declaring 4096x4096. */
    heavy: { images: Record<HeavyFormat, { share: string; max: string }>; declaredHuge: string };
  }
}
export {};
