/*
 * Memory-bound helpers for the wasm training kernels, compiled to a tiny wasm module that
 * imports the tfjs wasm backend's own memory: every pointer here is a heap offset of a tfjs
 * tensor, so nothing is copied in or out. The module must own no memory of its own - no
 * static data, no stack (build.sh checks both) - since its linear memory is tfjs's heap.
 * Build: trainer/kernels/simd/build.sh (clang/lld 14 with the wasm32 target).
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

/* dst[c] = scale * sum over r of src[r * cols + c]; float32 partials of 64 rows are flushed into
 * float64 totals, so long reductions stay as exact as the cpu backend's float64 loop. */
EXPORT(sum_rows)
void sum_rows(const float *src, int rows, int cols, float *dst, float scale, float *part, double *total) {
  for (int c = 0; c < cols; c++) total[c] = 0;
  for (int r0 = 0; r0 < rows; r0 += 64) {
    int r1 = r0 + 64 < rows ? r0 + 64 : rows;
    for (int c = 0; c < cols; c++) part[c] = 0;
    for (int r = r0; r < r1; r++) {
      const float *row = src + (long)r * cols;
      int c = 0;
      for (; c + 4 <= cols; c += 4) wasm_v128_store(part + c, wasm_f32x4_add(wasm_v128_load(part + c), wasm_v128_load(row + c)));
      for (; c < cols; c++) part[c] += row[c];
    }
    for (int c = 0; c < cols; c++) total[c] += part[c];
  }
  for (int c = 0; c < cols; c++) dst[c] = (float)(total[c] * scale);
}

/* Generic transpose after the caller collapsed it to 4-D: out is written in order, input read
 * with strides s0..s3. When the input's contiguous axis is output axis 2, 16x16 tiles of axes
 * 2 and 3 keep both sides' cache lines in use instead of one read per line. */
EXPORT(transpose4)
void transpose4(const float *src, float *dst, int n0, int n1, int n2, int n3, int s0, int s1, int s2, int s3) {
  for (int i0 = 0; i0 < n0; i0++)
    for (int i1 = 0; i1 < n1; i1++) {
      const float *base = src + (long)i0 * s0 + (long)i1 * s1;
      float *out = dst + ((long)i0 * n1 + i1) * n2 * n3;
      if (s3 == 1) {
        for (int i2 = 0; i2 < n2; i2++) __builtin_memcpy(out + (long)i2 * n3, base + (long)i2 * s2, (unsigned long)n3 * 4);
      } else if (s2 == 1) {
        for (int a = 0; a < n2; a += 16)
          for (int b = 0; b < n3; b += 16) {
            int a1 = a + 16 < n2 ? a + 16 : n2, b1 = b + 16 < n3 ? b + 16 : n3;
            for (int i2 = a; i2 < a1; i2++)
              for (int i3 = b; i3 < b1; i3++) out[(long)i2 * n3 + i3] = base[i2 + (long)i3 * s3];
          }
      } else {
        for (int i2 = 0; i2 < n2; i2++)
          for (int i3 = 0; i3 < n3; i3++) out[(long)i2 * n3 + i3] = base[(long)i2 * s2 + (long)i3 * s3];
      }
    }
}

/* Rows (i*kw + j)*ci + c of the tap-major patch matrix, from channel-major planes [ci][nb][h][w]. */
EXPORT(patches_by_tap)
void patches_by_tap(const float *planes, float *dst, int nb, int h, int w, int ci, int oh, int ow,
                    int kh, int kw, int sh, int sw, int top, int left) {
  for (int i = 0; i < kh; i++)
    for (int j = 0; j < kw; j++) {
      int x0 = 0, x1 = ow;
      while (x0 < ow && x0 * sw + j - left < 0) x0++;
      while (x1 > x0 && (x1 - 1) * sw + j - left >= w) x1--;
      for (int c = 0; c < ci; c++)
        for (int b = 0; b < nb; b++) {
          const float *plane = planes + ((long)c * nb + b) * h * w;
          for (int y = 0; y < oh; y++, dst += ow) {
            int yy = y * sh + i - top;
            if (yy < 0 || yy >= h) {
              __builtin_memset(dst, 0, (unsigned long)ow * 4);
              continue;
            }
            for (int x = 0; x < x0; x++) dst[x] = 0;
            for (int x = x1; x < ow; x++) dst[x] = 0;
            const float *p = plane + (long)yy * w + x0 * sw + j - left;
            if (sw == 1) __builtin_memcpy(dst + x0, p, (unsigned long)(x1 - x0) * 4);
            else for (int x = x0; x < x1; x++, p += sw) dst[x] = *p;
          }
        }
    }
}

/* dx = 0, then each dy value goes to the first maximum (row-major, strict >) of its window. */
EXPORT(max_pool_grad)
void max_pool_grad(const float *x, const float *dy, float *dx, int nb, int h, int w, int ch, int oh, int ow,
                   int kh, int kw, int sh, int sw, int top, int left, float *best, int *where) {
  __builtin_memset(dx, 0, (unsigned long)nb * h * w * ch * 4);
  for (int b = 0; b < nb; b++)
    for (int yo = 0; yo < oh; yo++) {
      int y0 = yo * sh - top, y1 = y0 + kh;
      if (y0 < 0) y0 = 0;
      if (y1 > h) y1 = h;
      for (int xo = 0; xo < ow; xo++) {
        int x0 = xo * sw - left, x1 = x0 + kw;
        if (x0 < 0) x0 = 0;
        if (x1 > w) x1 = w;
        const float *d = dy + ((long)(b * oh + yo) * ow + xo) * ch;
        int c = 0;
        /* Four channels at a time: running max and the window position (as a lane index) holding it. */
        for (; c + 4 <= ch; c += 4) {
          v128_t top4 = wasm_f32x4_splat(-__builtin_inff());
          v128_t at = wasm_i32x4_splat(-1);
          for (int y = y0; y < y1; y++)
            for (int xx = x0; xx < x1; xx++) {
              int base = ((b * h + y) * w + xx) * ch + c;
              v128_t v = wasm_v128_load(x + base);
              v128_t gt = wasm_f32x4_gt(v, top4);
              top4 = wasm_v128_bitselect(v, top4, gt);
              at = wasm_v128_bitselect(wasm_i32x4_add(wasm_i32x4_splat(base), wasm_i32x4_make(0, 1, 2, 3)), at, gt);
            }
          int p0 = wasm_i32x4_extract_lane(at, 0), p1 = wasm_i32x4_extract_lane(at, 1);
          int p2 = wasm_i32x4_extract_lane(at, 2), p3 = wasm_i32x4_extract_lane(at, 3);
          if (p0 >= 0) dx[p0] += d[c];
          if (p1 >= 0) dx[p1] += d[c + 1];
          if (p2 >= 0) dx[p2] += d[c + 2];
          if (p3 >= 0) dx[p3] += d[c + 3];
        }
        for (; c < ch; c++) {
          float m = -__builtin_inff();
          int at = -1;
          for (int y = y0; y < y1; y++)
            for (int xx = x0; xx < x1; xx++) {
              int p = ((b * h + y) * w + xx) * ch + c;
              if (x[p] > m) {
                m = x[p];
                at = p;
              }
            }
          if (at >= 0) dx[at] += d[c];
        }
      }
    }
}

/* Standard im2col of NHWC x: row p = (b, y, x) of the output holds the receptive field in
 * (i, j, c) order, zeros where it falls in the padding. dst is [nb*oh*ow][kh*kw*ci]. */
EXPORT(im2col)
void im2col(const float *x, float *dst, int nb, int h, int w, int ci, int oh, int ow,
            int kh, int kw, int sh, int sw, int top, int left) {
  for (int b = 0; b < nb; b++)
    for (int y = 0; y < oh; y++)
      for (int xo = 0; xo < ow; xo++)
        for (int i = 0; i < kh; i++) {
          int yy = y * sh + i - top;
          int x0 = xo * sw - left;
          if (yy >= 0 && yy < h && x0 >= 0 && x0 + kw <= w) {
            /* The whole filter row lies inside the image: one contiguous run of kw*ci values. */
            const float *src = x + (((long)b * h + yy) * w + x0) * ci;
            int run = kw * ci;
            if (run >= 32) __builtin_memcpy(dst, src, (unsigned long)run * 4);
            else for (int c = 0; c < run; c++) dst[c] = src[c];
            dst += run;
            continue;
          }
          for (int j = 0; j < kw; j++, dst += ci) {
            int xx = xo * sw + j - left;
            /* memory.copy/fill cost a call each in V8: short runs are cheaper as plain loops. */
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) {
              for (int c = 0; c < ci; c++) dst[c] = 0;
            } else {
              const float *src = x + (((long)b * h + yy) * w + xx) * ci;
              if (ci >= 32) __builtin_memcpy(dst, src, (unsigned long)ci * 4);
              else for (int c = 0; c < ci; c++) dst[c] = src[c];
            }
          }
        }
}

/* c[r][o] = sum over p of a[p][r] * b[p][o], a [k][m], b [k][n], c [m][n], n a multiple of 8:
 * the shape of a filter gradient (tiny m x n, huge k). Neither operand is repacked: XNNPACK
 * spends longer packing such a b than multiplying. Blocks of 256 p are summed from zero and then
 * added to c, which keeps the float32 error of 100k-term sums near that of pairwise summation. */
EXPORT(gemm_tn)
void gemm_tn(const float *a, const float *b, float *c, int k, int m, int n) {
  for (int i = 0; i < m * n; i++) c[i] = 0;
  for (int p0 = 0; p0 < k; p0 += 256) {
    int p1 = p0 + 256 < k ? p0 + 256 : k;
    int r = 0;
    for (; r + 4 <= m; r += 4)
      for (int o = 0; o < n; o += 8) {
        v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        const float *ap = a + (long)p0 * m + r;
        const float *bp = b + (long)p0 * n + o;
        for (int p = p0; p < p1; p++, ap += m, bp += n) {
          v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
          v128_t a0 = wasm_v128_load32_splat(ap), a1 = wasm_v128_load32_splat(ap + 1);
          v128_t a2 = wasm_v128_load32_splat(ap + 2), a3 = wasm_v128_load32_splat(ap + 3);
          c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, b0)); c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a0, b1));
          c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a1, b0)); c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, b1));
          c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a2, b0)); c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a2, b1));
          c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a3, b0)); c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a3, b1));
        }
        float *cp = c + (long)r * n + o;
        wasm_v128_store(cp, wasm_f32x4_add(wasm_v128_load(cp), c00)); wasm_v128_store(cp + 4, wasm_f32x4_add(wasm_v128_load(cp + 4), c01)); cp += n;
        wasm_v128_store(cp, wasm_f32x4_add(wasm_v128_load(cp), c10)); wasm_v128_store(cp + 4, wasm_f32x4_add(wasm_v128_load(cp + 4), c11)); cp += n;
        wasm_v128_store(cp, wasm_f32x4_add(wasm_v128_load(cp), c20)); wasm_v128_store(cp + 4, wasm_f32x4_add(wasm_v128_load(cp + 4), c21)); cp += n;
        wasm_v128_store(cp, wasm_f32x4_add(wasm_v128_load(cp), c30)); wasm_v128_store(cp + 4, wasm_f32x4_add(wasm_v128_load(cp + 4), c31));
      }
    for (; r < m; r++)
      for (int o = 0; o < n; o += 8) {
        v128_t c0 = wasm_f32x4_splat(0), c1 = c0;
        const float *ap = a + (long)p0 * m + r;
        const float *bp = b + (long)p0 * n + o;
        for (int p = p0; p < p1; p++, ap += m, bp += n) {
          v128_t a0 = wasm_v128_load32_splat(ap);
          c0 = wasm_f32x4_add(c0, wasm_f32x4_mul(a0, wasm_v128_load(bp)));
          c1 = wasm_f32x4_add(c1, wasm_f32x4_mul(a0, wasm_v128_load(bp + 4)));
        }
        float *cp = c + (long)r * n + o;
        wasm_v128_store(cp, wasm_f32x4_add(wasm_v128_load(cp), c0)); wasm_v128_store(cp + 4, wasm_f32x4_add(wasm_v128_load(cp + 4), c1));
      }
  }
}
