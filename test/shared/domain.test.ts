import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createJpegDecoder,
  domainScore,
  domainStatistics,
  fitDomainProfile,
  isOutOfDomain,
  resizeArea,
  reviewReasons,
  stainCentroid,
  type DomainProfile,
  type PixelImage,
} from '../../shared/index.ts';

const root = path.resolve(import.meta.dirname, '../..');
const decoder = createJpegDecoder(new WebAssembly.Module(readFileSync(path.join(root, 'shared/jpeg/jpeg-decoder.wasm'))));
const sources = readFileSync(path.join(root, 'data/sample/sources.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
const photo = (file: string) => decoder.decode(new Uint8Array(readFileSync(path.join(root, 'data/sample', file))), 2);
// Sources split in two: the profile is fitted on one half and checked on photos of the other.
const sourceIds = [...new Set(sources.map(([, s]) => s))];
const fitted = sources.filter(([, s]) => sourceIds.indexOf(s) % 2 === 0).map(([f]) => photo(f));
const held = sources.filter(([, s]) => sourceIds.indexOf(s) % 2 === 1).map(([f]) => photo(f));
const profile = fitDomainProfile(fitted.map(domainStatistics), held.slice(0, held.length / 2).map(domainStatistics));
const flaggedShare = (images: PixelImage[]) => images.filter((im) => isOutOfDomain(domainScore(domainStatistics(im), profile))).length / images.length;

const W = 160, H = 120;
const solid = (rgb: number[]): PixelImage => ({ data: Uint8Array.from({ length: W * H * 3 }, (_, i) => rgb[i % 3]), width: W, height: H, channels: 3 });
const map = (im: PixelImage, f: (v: number, channel: number, p: number) => number): PixelImage => ({
  ...im, data: Uint8Array.from(im.data, (v, i) => Math.max(0, Math.min(255, Math.round(f(v, i % 3, i - (i % 3)))))),
});
const grayscale = (im: PixelImage) => map(im, (_, __, p) => (im.data[p] + im.data[p + 1] + im.data[p + 2]) / 3);
/** The cell magnified `z` times about itself, in a frame of the same size. */
const rescaled = (im: PixelImage, z: number): PixelImage => {
  const w = im.width / z, h = im.height / z;
  const c = stainCentroid(im) ?? { x: im.width / 2, y: im.height / 2 };
  const x = Math.min(Math.max(c.x - w / 2, 0), im.width - w), y = Math.min(Math.max(c.y - h / 2, 0), im.height - h);
  return { data: resizeArea(im, { x, y, width: w, height: h }, im.width, im.height), width: im.width, height: im.height, channels: 3 };
};
let seed = 7;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;

describe('the domain profile fitted on sample photos', () => {
  // Fitted on 16 sources only, so looser than the 5% the trainer reaches on the full set.
  it('keeps photos of other cells of the same collection in domain (at most 10% flagged)', () => {
    expect(held.length).toBeGreaterThanOrEqual(90);
    expect(flaggedShare(held.slice(held.length / 2))).toBeLessThanOrEqual(0.1);
  });

  it.each<[string, () => PixelImage[]]>([
    ['blank and single-colour frames', () => [[0, 0, 0], [255, 255, 255], [128, 128, 128], [128, 96, 160], [200, 150, 220], [230, 200, 210], [220, 120, 120], [40, 40, 140]].map(solid)],
    ['grayscale copies', () => held.map(grayscale)],
    ['colour noise', () => Array.from({ length: 40 }, () => ({ data: Uint8Array.from({ length: W * H * 3 }, () => Math.floor(256 * random())), width: W, height: H, channels: 3 as const }))],
    ['a red cast of 40 levels', () => held.map((im) => map(im, (v, c) => v + (c === 0 ? 40 : 0)))],
    ['a green cast of 40 levels', () => held.map((im) => map(im, (v, c) => v + (c === 1 ? 40 : 0)))],
    ['a blue stain turned red (blue -40, red +40)', () => held.map((im) => map(im, (v, c) => v + (c === 0 ? 40 : c === 2 ? -40 : 0)))],
    ['cells magnified 3x', () => held.map((im) => rescaled(im, 3))],
    ['cells magnified 4x', () => held.map((im) => rescaled(im, 4))],
  ])('flags %s (at least 99%)', (_, make) => {
    expect(flaggedShare(make())).toBeGreaterThanOrEqual(0.99);
  });

  // A known gap: the colour and stain statistics catch only part of a 2x magnification.
  it('flags more than half of the cells magnified 2x', () => {
    expect(flaggedShare(held.map((im) => rescaled(im, 2)))).toBeGreaterThan(0.5);
  });
});

describe('domainScore', () => {
  const p: DomainProfile = { version: 1, statistics: ['stainShare', 'brightness'], low: [0.1, 0.6], high: [0.3, 0.8], margin: 0.5 };
  const stats = (stain: number, bright: number) => [stain, 0, 0, bright, 0, 0, 0];

  it.each([
    ['the middle of both ranges', stats(0.2, 0.7), 0],
    ['the edge of the training range', stats(0.3, 0.7), 0.5],
    ['the edge of the margin', stats(0.4, 0.7), 1],
    ['past the margin on the other statistic', stats(0.2, 1.0), 1.5],
  ])('scores %s', (_, s, expected) => {
    expect(domainScore(s, p)).toBeCloseTo(expected, 10);
  });

  it.each([
    [0.9, 0.5, []],
    [0.5, 0.5, ['low_confidence']],
    [0.9, 1.2, ['out_of_domain']],
    [0.5, 1.2, ['low_confidence', 'out_of_domain']],
    [0.5, null, ['low_confidence']],
  ] as const)('gives confidence %f with score %s the reasons %j', (confidence, score, reasons) => {
    expect(reviewReasons(confidence, score, { tta: 'none', temperature: 1, reviewThreshold: 0.7 })).toEqual(reasons);
  });
});

describe('fitDomainProfile', () => {
  it('widens the margin until at most 1% of validation is out of domain', () => {
    const train = Array.from({ length: 200 }, (_, i) => Array.from({ length: 7 }, () => i / 200));
    const validation = Array.from({ length: 100 }, (_, i) => Array.from({ length: 7 }, () => (i < 5 ? 1.2 : 0.5)));
    const fit = fitDomainProfile(train, validation);
    expect(fit.margin).toBeGreaterThan(0);
    expect(validation.filter((row) => isOutOfDomain(domainScore(row, fit))).length).toBeLessThanOrEqual(1);
  });
});
