import { defaultPreprocessing, preprocess, sha256Hex, type PixelImage } from '../../shared/index.ts';
import { ensureBackend, tf } from './backend.ts';
import { liveClock } from '../clock.ts';
import { decodeImage } from './decode.ts';
// A real smear photo from the shipped sample (320x240, 4:2:0), bundled as bytes (wrangler.toml's Data rule).
import warmUpPhoto from '../../data/sample/LYMPHOCYTE/_0_1349.jpeg';


/** What the isolate did before its first request. */
interface WarmUp {
  /** `done`: backend, kernels, JPEG codec, preprocessing and SHA-256 ran once; `failed`: the first request sets them up instead. */
  state: 'pending' | 'done' | 'failed';
  /** Milliseconds it took, as far as workerd's clock shows them (it moves in whole milliseconds). */
  ms: number | null;
}

let status: WarmUp = { state: 'pending', ms: null };
let started = false;

/** Runs the op kinds a folded plan is made of (fused conv + ReLU, max pool, global mean, fused dense, softmax) on a tiny input. */
async function runKernels(): Promise<void> {
  const out = tf.tidy(() => {
    const x = tf.ones([1, 32, 32, 3]) as tf.Tensor4D;
    const first = tf.fused.conv2d({ x, filter: tf.ones([3, 3, 3, 16]), bias: tf.zeros([16]), activation: 'relu', strides: 1, pad: 'same' });
    let h = tf.maxPool(first, 2, 2, 'valid');
    for (let i = 0; i < 6; i++) h = tf.fused.conv2d({ x: h, filter: tf.ones([3, 3, 16, 16]), bias: tf.zeros([16]), activation: 'relu', strides: 1, pad: 'same' });
    const dense = tf.fused.matMul({ a: tf.mean(h, [1, 2]) as tf.Tensor2D, b: tf.ones([16, 4]), bias: tf.zeros([4]) });
    return tf.softmax(dense);
  });
  await out.data();
  out.dispose();
}

/** A pale frame with one darker disc in it, the shape of a stained cell on a smear. */
function syntheticFrame(width: number, height: number): PixelImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i += 4) {
      const inside = (x - width / 2) ** 2 + (y - height / 2) ** 2 < 900;
      data.set(inside ? [90, 40, 140, 255] : [230, 220, 225, 255], i);
    }
  }
  return { data, width, height, channels: 4 };
}

async function warm(): Promise<void> {
  const t0 = Date.now();
  try {
    await ensureBackend();
    await runKernels();
    // A real photo, through both JPEG scales a manifest may ask for: V8 then compiles the codec's
    // and preprocessing's loops for the sizes and pixel types requests bring (a 16x16 JPEG and an
    // RGBA frame alone left the first request's decode and preprocess at 15 ms against 5.5 ms).
    const photo = new Uint8Array(warmUpPhoto);
    for (const params of [defaultPreprocessing(64, 'cell', 'reduced'), defaultPreprocessing(64, 'stain', 'reduced'), defaultPreprocessing(64, 'stain')]) {
      preprocess(await decodeImage(photo, params), params);
    }
    // The RGBA frames PNG and WebP decode to.
    preprocess(syntheticFrame(320, 240), defaultPreprocessing(64, 'cell'));
    // Token checks hash with WebCrypto; its first digest sets it up.
    await sha256Hex(new Uint8Array(32));
    // Whether requests need a timer between their timed phases (clock.ts).
    liveClock();
    status = { state: 'done', ms: Date.now() - t0 };
  } catch (error) {
    // Requests set everything up themselves and report what fails; here it only costs the head start.
    console.warn('isolate warm-up failed; the first request sets up the backend instead', error);
    status = { state: 'failed', ms: Date.now() - t0 };
  }
}

/**
 * Starts, when the isolate loads its script, the work every first request would otherwise pay for:
 * the tfjs wasm backend, the first (baseline-compiled) run of its kernels and of the JPEG codec.
 * workerd runs promise work at startup (no I/O is allowed there, and none is needed); on Cloudflare
 * the isolate starts while the TLS handshake of its first request is still going on.
 *
 * @example
 * startWarmUp(); // at module scope of worker/index.ts
 */
export function startWarmUp(): void {
  if (started) return;
  started = true;
  void warm();
}

/** Whether the isolate's warm-up has run, for /v1/info. */
export const warmUpStatus = (): WarmUp => status;
