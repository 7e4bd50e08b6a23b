import sharp from 'sharp';
import { defaultPreprocessing, evaluationFromConfusion, parseManifest, type Manifest } from '../../../shared/index.ts';
import type { EpochRecord, Mistake, ReportData } from '../../../trainer/report/types.ts';
import { calibrationFixture, crossValidationFixture, type DoubtOutcome } from './report-fixture-analysis.ts';

export const FIXTURE_CLASSES = ['EOSINOPHIL', 'LYMPHOCYTE', 'MONOCYTE', 'NEUTROPHIL'];

/** Nucleus colour of the synthetic smears: a deep purple no part of the report's own design uses. */
export const NUCLEUS_RGB: [number, number, number] = [92, 38, 150];

/** Quantised model on 160 validation images: 144 right (90.0%), macro-F1 0.900. */
export const QUANT_CONFUSION = [
  [36, 0, 1, 3],
  [0, 39, 1, 0],
  [1, 2, 34, 3],
  [4, 0, 1, 35],
];
/** Float model: 145 right (90.6%). */
export const FLOAT_CONFUSION = [
  [37, 0, 1, 2],
  [0, 39, 1, 0],
  [1, 2, 34, 3],
  [4, 0, 1, 35],
];

/** A run stopped early at epoch 15 (patience 3), lowest validation loss at epoch 12. */
const HISTORY: [number, number, number, number][] = [
  // loss, accuracy, valLoss, valAccuracy
  [1.3512, 0.3391, 1.2904, 0.4125],
  [1.1047, 0.5016, 1.0581, 0.5375],
  [0.8873, 0.6281, 0.8695, 0.6438],
  [0.7204, 0.7109, 0.7512, 0.7063],
  [0.6012, 0.7672, 0.6437, 0.7625],
  [0.5161, 0.8047, 0.5803, 0.7938],
  [0.4488, 0.8313, 0.5271, 0.8125],
  [0.3962, 0.8531, 0.4855, 0.8375],
  [0.3520, 0.8734, 0.4503, 0.8563],
  [0.3187, 0.8875, 0.4391, 0.8688],
  [0.2896, 0.9016, 0.4212, 0.8875],
  [0.2641, 0.9109, 0.4046, 0.9063],
  [0.2433, 0.9203, 0.4128, 0.8938],
  [0.2262, 0.9281, 0.4297, 0.8875],
  [0.2101, 0.9359, 0.4402, 0.8813],
];

export interface ReportFixtureOptions {
  /** Epochs of history, 1..15 (default 15); the best epoch is the one with the lowest validation loss. */
  epochs?: number;
  /** Number of confident mistakes, 0..12 (default 8). */
  mistakes?: number;
  /** Skipped files, 0..3 (default 2). */
  skipped?: number;
  /** Four class names to use instead of FIXTURE_CLASSES, e.g. hostile ones. */
  classes?: string[];
  /** Replaces the dataset root shown in the report. */
  root?: string;
  /** Adds a calibration report whose review threshold meets its targets or not (default: none). */
  calibration?: DoubtOutcome;
  /** Adds a 5-fold cross-validation (default: none). */
  crossValidation?: boolean;
}

/** Deterministic pseudo-random numbers, so the fixture's pictures never change. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Nucleus lobes (centre offsets and radii, in units of the cell radius) for each class's look. */
const NUCLEI: [number, number, number][][] = [
  [[-0.32, -0.1, 0.36], [0.32, 0.08, 0.36]], // eosinophil: two lobes
  [[0, 0, 0.78]], // lymphocyte: one round nucleus filling the cell
  [[-0.1, 0, 0.6]], // monocyte: kidney shape (a bite is taken below)
  [[-0.42, 0.1, 0.24], [-0.08, -0.3, 0.25], [0.26, -0.05, 0.24], [0.3, 0.38, 0.22]], // neutrophil: 4 lobes
];

/** A 128×96 PNG that looks like a stained smear: pink background, red cells, one white cell. */
export async function smearThumbnail(classIndex: number, seed: number): Promise<Uint8Array> {
  const w = 128, h = 96;
  const rnd = mulberry32(seed * 7919 + classIndex);
  const px = Buffer.alloc(w * h * 3);
  const reds = Array.from({ length: 9 }, () => [rnd() * w, rnd() * h, 11 + rnd() * 5]);
  const cx = w / 2 + (rnd() - 0.5) * 16, cy = h / 2 + (rnd() - 0.5) * 10, r = 27 + rnd() * 5;
  const lobes = NUCLEI[classIndex % NUCLEI.length];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let c = [238, 212, 214];
      for (const [rx, ry, rr] of reds) {
        const d = Math.hypot(x - rx, y - ry);
        if (d < rr) c = d < rr * 0.45 ? [230, 176, 182] : [214, 132, 146];
      }
      const dc = Math.hypot(x - cx, y - cy);
      if (dc < r) {
        c = classIndex % 4 === 0 && rnd() < 0.35 ? [226, 112, 104] : [214, 196, 226];
        const inNucleus = lobes.some(([ox, oy, lr]) => Math.hypot(x - (cx + ox * r), y - (cy + oy * r)) < lr * r);
        const bitten = classIndex % 4 === 2 && Math.hypot(x - (cx + 0.1 * r), y - (cy + 0.55 * r)) < 0.35 * r;
        if (inNucleus && !bitten) c = NUCLEUS_RGB;
      }
      const noise = (rnd() - 0.5) * 10;
      const i = (y * w + x) * 3;
      for (let k = 0; k < 3; k++) px[i + k] = Math.max(0, Math.min(255, Math.round(c[k] + noise)));
    }
  }
  return new Uint8Array(await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
}

const SKIPPED = [
  { path: 'MONOCYTE/_5_9914.jpeg', reason: 'could not decode the image (truncated JPEG data)' },
  { path: 'NEUTROPHIL/scan 0042.tiff', reason: 'unsupported file type .tiff (use JPEG, PNG or WebP)' },
  { path: 'EOSINOPHIL/notes.txt', reason: 'not an image file' },
];

/** Mistakes as a trainer would find them: off-diagonal cells of the quantised confusion, most confident first. */
async function mistakes(classes: string[], count: number): Promise<Mistake[]> {
  const pairs: [number, number][] = [[3, 0], [0, 3], [2, 1], [2, 3], [0, 2], [3, 2], [1, 2], [2, 0], [3, 0], [0, 3], [2, 3], [2, 1]];
  return Promise.all(
    pairs.slice(0, count).map(async ([t, p], i) => ({
      path: `${classes[t]}/_${10 + i * 7}_${4100 + i * 313}.jpeg`,
      trueLabel: classes[t],
      predictedLabel: classes[p],
      probability: 0.981 - i * 0.041,
      thumbnailPng: await smearThumbnail(t, i + 1),
    })),
  );
}

/** A realistic `ReportData` for a 4-class white-blood-cell model, made without touching the disk. */
export async function buildReportFixture(options: ReportFixtureOptions = {}): Promise<ReportData> {
  const classes = options.classes ?? FIXTURE_CLASSES;
  if (classes.length !== 4) throw new Error(`the report fixture needs exactly 4 classes, got ${classes.length}`);
  const epochs = options.epochs ?? HISTORY.length;
  const history: EpochRecord[] = HISTORY.slice(0, epochs).map(([loss, accuracy, valLoss, valAccuracy], i) => ({
    epoch: i + 1, loss, accuracy, valLoss, valAccuracy, durationMs: 41_000 + ((i * 1733) % 5000),
  }));
  const best = history.reduce((b, r) => (r.valLoss < b.valLoss ? r : b), history[0]);
  // Copies: evaluations keep the matrix they are given, and tests spoil theirs.
  const floatEvaluation = evaluationFromConfusion(classes, FLOAT_CONFUSION.map((row) => [...row]));
  const quantizedEvaluation = evaluationFromConfusion(classes, QUANT_CONFUSION.map((row) => [...row]));
  const skipped = SKIPPED.slice(0, options.skipped ?? 2);
  const imagesPerClass = Object.fromEntries(classes.map((c, i) => [c, [200, 200, 198, 200][i]]));
  const groupsPerClass = Object.fromEntries(classes.map((c, i) => [c, [34, 33, 33, 34][i]]));
  const splitDescription =
    'grouped by file-name pattern /^_(\\d+)_/ (134 groups): no group has images on both sides';
  const modelBytes = 71_892;
  const manifest: Manifest = parseManifest({
    format: 'cellsense-model/1',
    name: 'blood-cells',
    version: '2025-06-03.1',
    createdAt: '2025-06-03T14:27:09.512Z',
    classes: [...classes],
    input: { height: 64, width: 64, channels: 3 },
    preprocessing: { ...defaultPreprocessing(64, 'stain'), mean: [0.66, 0.6, 0.72], std: [0.21, 0.24, 0.18] },
    quantization: { dtype: 'uint8', weightBytes: 69_120 },
    metrics: {
      validation: { ...structuredClone(quantizedEvaluation), accuracyFloat: floatEvaluation.accuracy, accuracyQuantized: quantizedEvaluation.accuracy },
      split: { method: 'pattern', description: splitDescription, groups: 134, trainImages: 638, validationImages: 160 },
    },
    files: [
      { path: 'model.json', bytes: 2_772, sha256: 'a3f1c29e0b7d4e6f8a1b2c3d4e5f60718293a4b5c6d7e8f9012345678abcdef0' },
      { path: 'weights.bin', bytes: 69_120, sha256: '5e0c8d7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa9988776655' },
    ],
    training: {
      arch: 'compact', epochs: 20, epochsRun: history.length, bestEpoch: best?.epoch ?? 0, seed: 42, backend: 'wasm',
      durationMs: history.reduce((s, r) => s + r.durationMs, 0), datasetFingerprint: 'sha256:9c41e07be2d35f1a',
      images: 798, imagesSkipped: skipped.length, skipped,
      command: 'npm run train -- --data data/blood-cells --group-pattern "^_(\\d+)_" --version 2025-06-03.1',
    },
  });
  return {
    manifest,
    history,
    floatEvaluation,
    quantizedEvaluation,
    dataset: {
      root: options.root ?? 'data/blood-cells', classes: [...classes], imagesPerClass, groupsPerClass,
      trainImages: 638, validationImages: 160, splitDescription, skipped,
    },
    mistakes: await mistakes(classes, options.mistakes ?? 8),
    parameters: 68_740,
    modelBytes,
    ...(options.calibration ? { calibration: calibrationFixture(options.calibration, QUANT_CONFUSION) } : {}),
    ...(options.crossValidation ? { crossValidation: crossValidationFixture(classes) } : {}),
  };
}
