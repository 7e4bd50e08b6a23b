/**
 * The inverse of a `size` x `size` row-major matrix by Gauss-Jordan elimination with partial
 * pivoting; throws on a singular matrix.
 *
 * @example
 * inverse(Float64Array.of(2, 0, 0, 4), 2); // [0.5, 0, 0, 0.25]
 */
export function inverse(matrix: ArrayLike<number>, size: number): Float64Array {
  const a = Float64Array.from(matrix);
  const out = new Float64Array(size * size);
  for (let i = 0; i < size; i++) out[i * size + i] = 1;
  for (let col = 0; col < size; col++) {
    let pivot = col;
    for (let r = col + 1; r < size; r++) if (Math.abs(a[r * size + col]) > Math.abs(a[pivot * size + col])) pivot = r;
    if (!(Math.abs(a[pivot * size + col]) > 1e-300)) throw new Error('matrix is singular');
    if (pivot !== col) {
      for (let c = 0; c < size; c++) {
        [a[col * size + c], a[pivot * size + c]] = [a[pivot * size + c], a[col * size + c]];
        [out[col * size + c], out[pivot * size + c]] = [out[pivot * size + c], out[col * size + c]];
      }
    }
    const d = a[col * size + col];
    for (let c = 0; c < size; c++) { a[col * size + c] /= d; out[col * size + c] /= d; }
    for (let r = 0; r < size; r++) {
      const f = a[r * size + col];
      if (r === col || f === 0) continue;
      for (let c = 0; c < size; c++) { a[r * size + c] -= f * a[col * size + c]; out[r * size + c] -= f * out[col * size + c]; }
    }
  }
  return out;
}

/**
 * `vᵀ M v` for a square row-major `matrix` as long as `vector` squared.
 *
 * @example
 * quadraticForm([2, 0, 0, 3], [1, 1]); // 5
 */
export function quadraticForm(matrix: ArrayLike<number>, vector: ArrayLike<number>): number {
  const n = vector.length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let row = 0;
    for (let j = 0; j < n; j++) row += matrix[i * n + j] * vector[j];
    sum += vector[i] * row;
  }
  return sum;
}

/**
 * The whitening of a covariance matrix: the lower-triangular `W` with `Wᵀ W` its inverse, so
 * that `|W v|` is the Mahalanobis length of `v`. Packed by rows (row `i` holds `i + 1` values),
 * from the Cholesky factor `L` of the covariance as `L⁻¹`. Any rounding of `W` still gives a
 * length, where a rounded inverse covariance can give a negative square.
 *
 * @example
 * whitening(Float64Array.of(4, 0, 0, 9), 2); // [0.5, 0, 1/3]
 */
export function whitening(covariance: ArrayLike<number>, size: number): Float64Array {
  const l = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = covariance[i * size + j];
      for (let k = 0; k < j; k++) sum -= l[i * size + k] * l[j * size + k];
      if (i === j) {
        if (!(sum > 0)) throw new Error('matrix is not positive definite');
        l[i * size + i] = Math.sqrt(sum);
      } else l[i * size + j] = sum / l[j * size + j];
    }
  }
  // Forward substitution, column by column, for L⁻¹ (lower triangular too).
  const packed = new Float64Array((size * (size + 1)) / 2);
  const row = (i: number) => (i * (i + 1)) / 2;
  for (let j = 0; j < size; j++) {
    for (let i = j; i < size; i++) {
      let sum = i === j ? 1 : 0;
      for (let k = j; k < i; k++) sum -= l[i * size + k] * packed[row(k) + j];
      packed[row(i) + j] = sum / l[i * size + i];
    }
  }
  return packed;
}

/**
 * `W v` for a lower-triangular `W` packed by rows (as {@link whitening} gives it).
 *
 * @example
 * lowerTimes([0.5, 0, 1 / 3], [2, 3]); // [1, 1]
 */
export function lowerTimes(packed: ArrayLike<number>, vector: ArrayLike<number>): Float64Array {
  const n = vector.length;
  const out = new Float64Array(n);
  for (let i = 0, p = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j <= i; j++, p++) sum += packed[p] * vector[j];
    out[i] = sum;
  }
  return out;
}
