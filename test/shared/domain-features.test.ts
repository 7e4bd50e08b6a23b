import { describe, expect, it } from 'vitest';
import { featureDistance, fitDomainProfile, domainScore, meanFeatures, DOMAIN_STATISTICS, isOutOfDomain } from '../../shared/index.ts';
import { fitFeatureProfile, featureProfileSchema } from '../../shared/domain-features.ts';
import { inverse, lowerTimes, whitening } from '../../shared/linear-algebra.ts';

let state = 9;
const uniform = () => (state = (state * 16807) % 2147483647) / 2147483647;
const gaussian = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());

/** `count` feature rows around each class centre, the first two features correlated. */
function clusters(centres: number[][], count: number): { values: Float64Array; labels: number[]; size: number } {
  const size = centres[0].length;
  const values = new Float64Array(centres.length * count * size);
  const labels: number[] = [];
  centres.forEach((centre, c) => {
    for (let r = 0; r < count; r++) {
      const row = (c * count + r) * size;
      const shared = gaussian();
      for (let i = 0; i < size; i++) values[row + i] = centre[i] + (i < 2 ? shared + 0.1 * gaussian() : 0.5 * gaussian());
      labels.push(c);
    }
  });
  return { values, labels, size };
}

describe('whitening', () => {
  it.each([
    ['a diagonal matrix', [4, 0, 0, 9], 2],
    ['a correlated pair', [2, 1.2, 1.2, 1], 2],
    ['three correlated values', [3, 1, 0.5, 1, 2, 0.3, 0.5, 0.3, 1], 3],
  ])('gives W with WᵀW the inverse of %s', (_, matrix, size) => {
    const w = whitening(matrix, size);
    const full = new Float64Array(size * size);
    for (let i = 0, p = 0; i < size; i++) for (let j = 0; j <= i; j++, p++) full[i * size + j] = w[p];
    const expected = inverse(matrix, size);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        let sum = 0;
        for (let k = 0; k < size; k++) sum += full[k * size + i] * full[k * size + j];
        expect(sum).toBeCloseTo(expected[i * size + j], 10);
      }
    }
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(() => whitening([1, 2, 2, 1], 2)).toThrow(/positive definite/);
  });

  it('multiplies by a packed lower-triangular matrix', () => {
    expect([...lowerTimes([0.5, 0, 1 / 3], [2, 3])]).toEqual([1, 1]);
    expect([...lowerTimes([1, 2, 3, 4, 5, 6], [1, 1, 1])]).toEqual([1, 5, 15]);
  });
});

describe('fitFeatureProfile', () => {
  const centres = [[0, 0, 0, 0], [6, 6, 0, 0], [0, 0, 6, 6]];
  const train = clusters(centres, 300);
  const validation = clusters(centres, 200);
  const profile = fitFeatureProfile(train, train.labels, validation);

  it('writes a profile the manifest schema accepts, one centre per class', () => {
    expect(featureProfileSchema.parse(profile)).toEqual(profile);
    expect(profile.centres).toHaveLength(3);
    expect(profile.whitening).toHaveLength(10);
  });

  it('leaves at most 1% of validation past the fitted distance', () => {
    const past = validation.labels.filter((_, r) => featureDistance(validation.values.subarray(r * 4, r * 4 + 4), profile) > profile.distance);
    expect(past.length).toBeLessThanOrEqual(6);
  });

  it.each([
    ['at a class centre', [6, 6, 0, 0], false],
    ['half way between two classes that differ in features that vary little', [0, 0, 3, 3], true],
    ['against the correlation the training features show', [1.5, -1.5, 0, 0], true],
    ['far along a feature no class uses', [0, 0, 0, -8], true],
    ['along the correlation, as far as training goes', [1.5, 1.5, 0, 0], false],
  ])('scores features %s (out of domain: %s)', (_, features, out) => {
    expect(featureDistance(features, profile) > profile.distance).toBe(out);
  });

  it('refuses features of another length', () => {
    expect(() => featureDistance([1, 2, 3], profile)).toThrow(/expected 4 features/);
  });

  it('averages the rows of a photo run as several variants', () => {
    expect([...meanFeatures([1, 2, 3, 4, 5, 6, 7, 8], 4)]).toEqual([3, 4, 5, 6]);
    expect(() => meanFeatures([1, 2, 3], 2)).toThrow(/rows of 2/);
  });
});

describe('a version-3 domain profile', () => {
  const k = DOMAIN_STATISTICS.length;
  const statistics = (n: number) => Array.from({ length: n }, () => Array.from({ length: k }, () => 0.5 + 0.05 * gaussian()));
  const centres = [[0, 0, 0, 0], [6, 6, 0, 0]];
  const train = clusters(centres, 200);
  const validation = clusters(centres, 100);
  const profile = fitDomainProfile(statistics(400), statistics(200), undefined, { train, labels: train.labels, validation });
  const usual = Array.from({ length: k }, () => 0.5);

  it('scores usual statistics with usual features in domain', () => {
    expect(profile.version).toBe(3);
    expect(isOutOfDomain(domainScore(usual, profile, [6, 6, 0, 0]))).toBe(false);
  });

  it('scores usual statistics with unfamiliar features out of domain', () => {
    expect(isOutOfDomain(domainScore(usual, profile, [0, 0, 9, 0]))).toBe(true);
  });

  it('needs the features to score a photo', () => {
    expect(() => domainScore(usual, profile)).toThrow(/pass them/);
  });
});
