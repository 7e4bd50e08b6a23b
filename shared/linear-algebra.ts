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
