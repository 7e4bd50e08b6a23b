/*
 * Memory-bound helpers for the wasm training kernels, compiled to a tiny wasm module that
 * imports the tfjs wasm backend's own memory: every pointer here is a heap offset of a tfjs
 * tensor, so nothing is copied in or out. The module must own no memory of its own - no
 * static data, no stack (build.sh checks both) - since its linear memory is tfjs's heap.
 * Build: shared/kernels/build.sh, twice: kernels.wasm (SIMD128) and kernels-relaxed.wasm
 * (-mrelaxed-simd, where MADD below is one fused multiply-add).
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

/* acc + a * b. Built with -mrelaxed-simd (kernels-relaxed.wasm) it is one fused multiply-add where
 * the CPU has one: on this kind of core the GEMM loops below issue a third fewer instructions, and
 * the sum is rounded once instead of twice. */
#ifdef __wasm_relaxed_simd__
typedef float f32x4_t __attribute__((vector_size(16)));
#define MADD(acc, a, b) ((v128_t)__builtin_wasm_relaxed_madd_f32x4((f32x4_t)(a), (f32x4_t)(b), (f32x4_t)(acc)))
#else
#define MADD(acc, a, b) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#endif

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

/* c[i][o] += (or, without add, =) sum over p < k of A(i, p) * b[p][o] with A(i, p) = a[i * ars + p * aps], b [k][n], n a
 * multiple of 8: a GEMM whose operands are read where they lie, without packing; 4x8 outputs at a time
 * in registers (then 2x8 and 1x8 for the last rows), summed from zero over the k terms and then added to c (stored, without add). Inlined into each caller, so
 * a constant stride (1) and a constant add compile to fixed offsets and one kind of store. */
/* One step of a 4x8 block in registers c00..c31: four a values (one per row, splat) times 8 of b. */
#define MADD_4X8(pa0, pa1, pa2, pa3, pb) do { \
    v128_t b0 = wasm_v128_load(pb), b1 = wasm_v128_load((pb) + 4); \
    v128_t x0 = wasm_v128_load32_splat(pa0), x1 = wasm_v128_load32_splat(pa1); \
    v128_t x2 = wasm_v128_load32_splat(pa2), x3 = wasm_v128_load32_splat(pa3); \
    c00 = MADD(c00, x0, b0); c01 = MADD(c01, x0, b1); \
    c10 = MADD(c10, x1, b0); c11 = MADD(c11, x1, b1); \
    c20 = MADD(c20, x2, b0); c21 = MADD(c21, x2, b1); \
    c30 = MADD(c30, x3, b0); c31 = MADD(c31, x3, b1); \
  } while (0)
#define PUT(p, v) wasm_v128_store((p), add ? wasm_f32x4_add(wasm_v128_load(p), (v)) : (v))
static inline __attribute__((always_inline)) void gemm_into(const float *a, long ars, long aps, const float *b, float *c, int m, int n, int k, int add) {
  int r = 0;
  for (; r + 4 <= m; r += 4)
    for (int o = 0; o < n; o += 8) {
      v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      const float *a0 = a + r * ars, *a1 = a0 + ars, *a2 = a1 + ars, *a3 = a2 + ars;
      const float *bp = b + o;
      for (int p = 0; p < k; p++, a0 += aps, a1 += aps, a2 += aps, a3 += aps, bp += n) {
        MADD_4X8(a0, a1, a2, a3, bp);
      }
      float *cp = c + (long)r * n + o;
      PUT(cp, c00); PUT(cp + 4, c01); cp += n;
      PUT(cp, c10); PUT(cp + 4, c11); cp += n;
      PUT(cp, c20); PUT(cp + 4, c21); cp += n;
      PUT(cp, c30); PUT(cp + 4, c31);
    }
  for (; r + 2 <= m; r += 2)
    for (int o = 0; o < n; o += 8) {
      v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00;
      const float *a0 = a + r * ars, *a1 = a0 + ars;
      const float *bp = b + o;
      for (int p = 0; p < k; p++, a0 += aps, a1 += aps, bp += n) {
        v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
        v128_t x0 = wasm_v128_load32_splat(a0), x1 = wasm_v128_load32_splat(a1);
        c00 = MADD(c00, x0, b0); c01 = MADD(c01, x0, b1);
        c10 = MADD(c10, x1, b0); c11 = MADD(c11, x1, b1);
      }
      float *cp = c + (long)r * n + o;
      PUT(cp, c00); PUT(cp + 4, c01); cp += n;
      PUT(cp, c10); PUT(cp + 4, c11);
    }
  for (; r < m; r++)
    for (int o = 0; o < n; o += 8) {
      v128_t c0 = wasm_f32x4_splat(0), c1 = c0;
      const float *ap = a + r * ars;
      const float *bp = b + o;
      for (int p = 0; p < k; p++, ap += aps, bp += n) {
        v128_t x = wasm_v128_load32_splat(ap);
        c0 = MADD(c0, x, wasm_v128_load(bp));
        c1 = MADD(c1, x, wasm_v128_load(bp + 4));
      }
      float *cp = c + (long)r * n + o;
      PUT(cp, c0); PUT(cp + 4, c1);
    }
}
#undef PUT

static inline __attribute__((always_inline)) void gemm_acc(const float *a, long ars, long aps, const float *b, float *c, int m, int n, int k) {
  gemm_into(a, ars, aps, b, c, m, n, k, 1);
}

/* c = A b over all k, p in blocks of 256: a block of b (and of a) stays in cache
 * while every row uses it, and block sums added to c keep the float32 error of 100k-term sums near
 * that of pairwise summation. */
static inline __attribute__((always_inline)) void gemm_strided(const float *a, long ars, long aps, const float *b, float *c, int m, int n, int k) {
  if (k <= 0) for (long i = 0; i < (long)m * n; i++) c[i] = 0;
  /* The first block stores into c, the others add to it: no pass to zero c first. */
  for (int p0 = 0; p0 < k; p0 += 256) gemm_into(a + p0 * aps, ars, aps, b + (long)p0 * n, c, m, n, (k - p0 < 256 ? k - p0 : 256), p0 > 0);
}

/* c[r][o] = sum over p of a[p][r] * b[p][o], a [k][m], b [k][n], c [m][n]: the shape of a filter
 * gradient (tiny m x n, huge k). XNNPACK spends longer packing such a b than multiplying. */
EXPORT(gemm_tn)
void gemm_tn(const float *a, const float *b, float *c, int k, int m, int n) {
  gemm_strided(a, 1, m, b, c, m, n, k);
}

/* ReLU's gradient: dy where the ReLU's input (or, the same, its output) is > 0, else 0. The gate
 * of the vector form may be null (no ReLU): dy as it is. */
static inline __attribute__((always_inline)) v128_t relu_gated(v128_t dy, const float *gate) {
  return gate ? wasm_v128_and(dy, wasm_f32x4_gt(wasm_v128_load(gate), wasm_f32x4_splat(0))) : dy;
}
static inline float relu_gated1(float dy, const float *gate) { return gate && !(*gate > 0) ? 0 : dy; }

/* Batch-norm sums per channel (the last axis) of rows x cols data, into float64 totals.
 * mode 0: total[c] = sum x, total[cols + c] = sum x^2, accumulated in float64 from the first term,
 *   so the variance E[x^2] - mean^2 keeps its precision (one pass, one exchange between replicas).
 * mode 2: total[c] = sum dy, total[cols + c] = sum dy * (x - center[c]); float32 partials over 64
 *   rows flushed into the float64 totals, as in sum_rows. With a gate (the output of a batch norm
 *   fused with ReLU), dy counts only where gate > 0: ReLU's gradient, without a pass of its own. */
EXPORT(channel_sums)
void channel_sums(const float *x, const float *dy, int rows, int cols, const float *center, int mode, float *part, double *total,
                  const float *gate) {
  for (int c = 0; c < 2 * cols; c++) total[c] = 0;
  if (mode == 0) {
    for (int r = 0; r < rows; r++) {
      const float *xr = x + (long)r * cols;
      int c = 0;
      for (; c + 2 <= cols; c += 2) {
        v128_t v = wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(xr + c));
        wasm_v128_store(total + c, wasm_f64x2_add(wasm_v128_load(total + c), v));
        wasm_v128_store(total + cols + c, wasm_f64x2_add(wasm_v128_load(total + cols + c), wasm_f64x2_mul(v, v)));
      }
      for (; c < cols; c++) {
        double v = xr[c];
        total[c] += v;
        total[cols + c] += v * v;
      }
    }
    return;
  }
  for (int r0 = 0; r0 < rows; r0 += 64) {
    int r1 = r0 + 64 < rows ? r0 + 64 : rows;
    for (int c = 0; c < 2 * cols; c++) part[c] = 0;
    for (int r = r0; r < r1; r++) {
      const float *xr = x + (long)r * cols, *dr = dy + (long)r * cols, *gr = gate ? gate + (long)r * cols : 0;
      int c = 0;
      for (; c + 4 <= cols; c += 4) {
        v128_t g = relu_gated(wasm_v128_load(dr + c), gr ? gr + c : 0);
        v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(center + c));
        wasm_v128_store(part + c, wasm_f32x4_add(wasm_v128_load(part + c), g));
        wasm_v128_store(part + cols + c, wasm_f32x4_add(wasm_v128_load(part + cols + c), wasm_f32x4_mul(g, d)));
      }
      for (; c < cols; c++) {
        float g = relu_gated1(dr[c], gr ? gr + c : 0);
        part[c] += g;
        part[cols + c] += g * (xr[c] - center[c]);
      }
    }
    for (int c = 0; c < 2 * cols; c++) total[c] += part[c];
  }
}

/* (x - mean) * scale + beta, four channels: batch norm's output, the same bits in every kernel that takes it. */
static inline __attribute__((always_inline)) v128_t bn4(v128_t x, v128_t mean, v128_t scale, v128_t beta) {
  return wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sub(x, mean), scale), beta);
}

/* Batch norm's forward pass: out = (x - mean[c]) * scale[c] + beta[c] per channel c of the last axis,
 * and with relu != 0 max(out, 0) in the same pass (a batch norm followed by ReLU). */
EXPORT(bn_forward)
void bn_forward(const float *x, float *out, int rows, int cols, const float *mean, const float *scale, const float *beta, int relu) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (long)r * cols;
    float *o = out + (long)r * cols;
    int c = 0;
    for (; c + 4 <= cols; c += 4) {
      v128_t v = bn4(wasm_v128_load(xr + c), wasm_v128_load(mean + c), wasm_v128_load(scale + c), wasm_v128_load(beta + c));
      wasm_v128_store(o + c, relu ? wasm_f32x4_max(v, wasm_f32x4_splat(0)) : v);
    }
    for (; c < cols; c++) {
      float v = (xr[c] - mean[c]) * scale[c] + beta[c];
      o[c] = relu && !(v > 0) ? (v != v ? v : 0) : v;
    }
  }
}

/* Batch norm's input gradient: dx = a[c] * dy + b[c] * (x - mean[c]) + d[c], dy gated as in channel_sums. */
EXPORT(bn_backward)
void bn_backward(const float *dy, const float *x, float *dx, int rows, int cols, const float *mean, const float *a, const float *b, const float *d,
                 const float *gate) {
  for (int r = 0; r < rows; r++) {
    const float *gr = dy + (long)r * cols, *xr = x + (long)r * cols, *on = gate ? gate + (long)r * cols : 0;
    float *o = dx + (long)r * cols;
    int c = 0;
    for (; c + 4 <= cols; c += 4) {
      v128_t v = wasm_f32x4_mul(wasm_v128_load(a + c), relu_gated(wasm_v128_load(gr + c), on ? on + c : 0));
      v = wasm_f32x4_add(v, wasm_f32x4_mul(wasm_v128_load(b + c), wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean + c))));
      wasm_v128_store(o + c, wasm_f32x4_add(v, wasm_v128_load(d + c)));
    }
    for (; c < cols; c++) o[c] = a[c] * relu_gated1(gr[c], on ? on + c : 0) + b[c] * (xr[c] - mean[c]) + d[c];
  }
}

/* Batch norm, ReLU and a 2x2 max-pool of stride 2 (valid padding) in one pass over x [nb, h, w, ch]
 * (a conv block's tail): out = max(0, max over each window of (x - mean[c]) * scale[c] + beta[c]),
 * without writing the full-size normalised activation that MaxPool would read back. For the
 * backward pass, xmax keeps x at each window's maximum and where its position (0..3, row-major,
 * the first of equal values as MaxPool's gradient takes it). A last odd row or column is in no
 * window, as with valid padding. The maximum is taken before ReLU: ReLU is monotonic, so it is the
 * same position wherever the gradient passes (out > 0). */
EXPORT(bn_relu_pool)
void bn_relu_pool(const float *x, float *out, float *xmax, unsigned char *where, int nb, int h, int w, int ch,
                  const float *mean, const float *scale, const float *beta) {
  int oh = h / 2, ow = w / 2;
  for (int b = 0; b < nb; b++)
    for (int yo = 0; yo < oh; yo++)
      for (int xo = 0; xo < ow; xo++) {
        const float *p0 = x + (((long)b * h + 2 * yo) * w + 2 * xo) * ch;
        const float *p[4] = {p0, p0 + ch, p0 + (long)w * ch, p0 + (long)w * ch + ch};
        long o = (((long)b * oh + yo) * ow + xo) * ch;
        int c = 0;
        for (; c + 4 <= ch; c += 4) {
          v128_t m = wasm_v128_load(mean + c), s = wasm_v128_load(scale + c), be = wasm_v128_load(beta + c);
          v128_t bestx = wasm_v128_load(p[0] + c), best = bn4(bestx, m, s, be), at = wasm_i32x4_splat(0);
          for (int k = 1; k < 4; k++) {
            v128_t v = wasm_v128_load(p[k] + c), y = bn4(v, m, s, be), gt = wasm_f32x4_gt(y, best);
            best = wasm_v128_bitselect(y, best, gt);
            bestx = wasm_v128_bitselect(v, bestx, gt);
            at = wasm_v128_bitselect(wasm_i32x4_splat(k), at, gt);
          }
          wasm_v128_store(out + o + c, wasm_f32x4_max(best, wasm_f32x4_splat(0)));
          wasm_v128_store(xmax + o + c, bestx);
          v128_t bytes = wasm_u8x16_narrow_i16x8(wasm_u16x8_narrow_i32x4(at, at), wasm_i16x8_splat(0));
          wasm_v128_store32_lane(where + o + c, bytes, 0);
        }
        for (; c < ch; c++) {
          float bestx = p[0][c], best = (bestx - mean[c]) * scale[c] + beta[c];
          int at = 0;
          for (int k = 1; k < 4; k++) {
            float v = p[k][c], y = (v - mean[c]) * scale[c] + beta[c];
            if (y > best) best = y, bestx = v, at = k;
          }
          out[o + c] = best > 0 ? best : (best != best ? best : 0);
          xmax[o + c] = bestx;
          where[o + c] = (unsigned char)at;
        }
      }
}

/* bn_relu_pool's input gradient: dx = a[c] * routed + b[c] * (x - mean[c]) + d[c] over all of x,
 * where routed is the pooled dy at each window's maximum (where) if out > 0 there, else 0. */
EXPORT(bn_relu_pool_backward)
void bn_relu_pool_backward(const float *dy, const float *out, const unsigned char *where, const float *x, float *dx,
                           int nb, int h, int w, int ch, const float *mean, const float *a, const float *b, const float *d) {
  int oh = h / 2, ow = w / 2;
  for (int n = 0; n < nb; n++)
    for (int y = 0; y < h; y++)
      for (int xx = 0; xx < w; xx++) {
        long i = (((long)n * h + y) * w + xx) * ch;
        int pooled = y / 2 < oh && xx / 2 < ow, k = (y & 1) * 2 + (xx & 1);
        long o = pooled ? (((long)n * oh + y / 2) * ow + xx / 2) * ch : 0;
        int c = 0;
        for (; c + 4 <= ch; c += 4) {
          v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(b + c), wasm_f32x4_sub(wasm_v128_load(x + i + c), wasm_v128_load(mean + c))),
                                    wasm_v128_load(d + c));
          if (pooled) {
            v128_t at = wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(where + o + c)));
            v128_t g = wasm_v128_and(relu_gated(wasm_v128_load(dy + o + c), out + o + c), wasm_i32x4_eq(at, wasm_i32x4_splat(k)));
            v = wasm_f32x4_add(v, wasm_f32x4_mul(wasm_v128_load(a + c), g));
          }
          wasm_v128_store(dx + i + c, v);
        }
        for (; c < ch; c++) {
          float v = b[c] * (x[i + c] - mean[c]) + d[c];
          if (pooled && where[o + c] == k) v += a[c] * relu_gated1(dy[o + c], out + o + c);
          dx[i + c] = v;
        }
      }
}

/* dx = dy where x > 0, else 0: ReLU's gradient in one pass (tfjs composes step, cast and multiply). */
EXPORT(relu_grad)
void relu_grad(const float *dy, const float *x, float *dx, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(dx + i, relu_gated(wasm_v128_load(dy + i), x + i));
  for (; i < n; i++) dx[i] = relu_gated1(dy[i], x + i);
}

/* One Adam step over n weights, each operation in float32 in the order tfjs' AdamOptimizer uses:
 * m' = m*b1 + g*(1-b1); v' = v*b2 + g*g*(1-b2); w' = (m'/c1) / (sqrt(v'/c2) + eps) * -lr + w. */
EXPORT(adam)
void adam(const float *w, const float *g, const float *m, const float *v, float *w2, float *m2, float *v2, int n,
          float b1, float one_minus_b1, float b2, float one_minus_b2, float c1, float c2, float eps, float neg_lr) {
  v128_t vb1 = wasm_f32x4_splat(b1), vb1m = wasm_f32x4_splat(one_minus_b1), vb2 = wasm_f32x4_splat(b2), vb2m = wasm_f32x4_splat(one_minus_b2);
  v128_t vc1 = wasm_f32x4_splat(c1), vc2 = wasm_f32x4_splat(c2), veps = wasm_f32x4_splat(eps), vlr = wasm_f32x4_splat(neg_lr);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t gi = wasm_v128_load(g + i);
    v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), vb1), wasm_f32x4_mul(gi, vb1m));
    v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), vb2), wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), vb2m));
    v128_t step = wasm_f32x4_div(wasm_f32x4_div(mi, vc1), wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_div(vi, vc2)), veps));
    wasm_v128_store(m2 + i, mi);
    wasm_v128_store(v2 + i, vi);
    wasm_v128_store(w2 + i, wasm_f32x4_add(wasm_f32x4_mul(step, vlr), wasm_v128_load(w + i)));
  }
  for (; i < n; i++) {
    float mi = m[i] * b1 + g[i] * one_minus_b1;
    float vi = v[i] * b2 + (g[i] * g[i]) * one_minus_b2;
    m2[i] = mi;
    v2[i] = vi;
    w2[i] = (mi / c1) / (__builtin_sqrtf(vi / c2) + eps) * neg_lr + w[i];
  }
}

/* c[i][o] = sum over p of a[i][p] * b[p][o]; a [m][k], b [k][n]: a dense layer's forward pass
 * (few rows, a large k), where XNNPACK repacks all of b on every call. */
EXPORT(gemm_nn)
void gemm_nn(const float *a, const float *b, float *c, int m, int n, int k) {
  gemm_strided(a, k, 1, b, c, m, n, k);
}

static float hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) + (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/* c[i][j] = sum over p of a[i][p] * b[j][p]; a [m][k], b [n][k], k a multiple of 4: the dense layer's
 * input gradient dy W^T, as dot products of contiguous rows, 2x4 outputs at a time. Columns outside:
 * each group of 4 rows of b is read once while all of a (a few rows) stays in cache. */
EXPORT(gemm_nt)
void gemm_nt(const float *a, const float *b, float *c, int m, int n, int k) {
  for (int j = 0; j < n; j += 4) {
    int cols = n - j < 4 ? n - j : 4;
    const float *b0 = b + (long)j * k;
    const float *b1 = cols > 1 ? b0 + k : b0, *b2 = cols > 2 ? b0 + 2L * k : b0, *b3 = cols > 3 ? b0 + 3L * k : b0;
    for (int i = 0; i < m; i += 2) {
      int rows = m - i < 2 ? 1 : 2;
      const float *a0 = a + (long)i * k, *a1 = rows > 1 ? a0 + k : a0;
      v128_t s00 = wasm_f32x4_splat(0), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
      for (int p = 0; p < k; p += 4) {
        v128_t x0 = wasm_v128_load(a0 + p), x1 = wasm_v128_load(a1 + p);
        v128_t y0 = wasm_v128_load(b0 + p), y1 = wasm_v128_load(b1 + p), y2 = wasm_v128_load(b2 + p), y3 = wasm_v128_load(b3 + p);
        s00 = MADD(s00, x0, y0); s01 = MADD(s01, x0, y1);
        s02 = MADD(s02, x0, y2); s03 = MADD(s03, x0, y3);
        s10 = MADD(s10, x1, y0); s11 = MADD(s11, x1, y1);
        s12 = MADD(s12, x1, y2); s13 = MADD(s13, x1, y3);
      }
      float r0[4] = {hsum(s00), hsum(s01), hsum(s02), hsum(s03)}, r1[4] = {hsum(s10), hsum(s11), hsum(s12), hsum(s13)};
      for (int q = 0; q < cols; q++) {
        c[(long)i * n + j + q] = r0[q];
        if (rows > 1) c[(long)(i + 1) * n + j + q] = r1[q];
      }
    }
  }
}

/* Filter gradient of an NHWC convolution without materialising patches: dw[i][j][c][o] = sum over
 * (b, y, x) of x[b][y*sh + i - top][x*sw + j - left][c] * dy[b][y][x][o], co a multiple of 8. For each
 * output row and filter row i, the pixels whose whole filter row lies inside the image read their
 * (j, c) values as one contiguous run: a GEMM with A rows (j, c) and one pixel per step, straight from
 * x and dy. The few border pixels add their in-image taps one by one. */
EXPORT(conv_filter_grad)
void conv_filter_grad(const float *x, const float *dy, float *dw, int nb, int h, int w, int ci, int oh, int ow, int co,
                      int kh, int kw, int sh, int sw, int top, int left) {
  for (long i = 0; i < (long)kh * kw * ci * co; i++) dw[i] = 0;
  /* Output columns whose filter row is entirely inside: xa <= x < xb. */
  int xa = 0, xb = ow;
  while (xa < ow && xa * sw - left < 0) xa++;
  while (xb > xa && (xb - 1) * sw - left + kw > w) xb--;
  for (int b = 0; b < nb; b++)
    for (int y = 0; y < oh; y++) {
      const float *dyr = dy + ((long)b * oh + y) * ow * co;
      for (int i = 0; i < kh; i++) {
        int yy = y * sh + i - top;
        if (yy < 0 || yy >= h) continue;
        const float *xr = x + ((long)b * h + yy) * w * ci;
        float *dwi = dw + (long)i * kw * ci * co;
        if (xb > xa) gemm_acc(xr + (long)(xa * sw - left) * ci, 1, (long)sw * ci, dyr + (long)xa * co, dwi, kw * ci, co, xb - xa);
        for (int xo = 0; xo < ow; xo++) {
          if (xo == xa && xb > xa) xo = xb;
          if (xo >= ow) break;
          const float *g = dyr + (long)xo * co;
          for (int j = 0; j < kw; j++) {
            int xx = xo * sw + j - left;
            if (xx < 0 || xx >= w) continue;
            const float *xp = xr + (long)xx * ci;
            float *d = dwi + (long)j * ci * co;
            for (int c = 0; c < ci; c++, d += co) {
              v128_t v = wasm_f32x4_splat(xp[c]);
              for (int o = 0; o < co; o += 4) wasm_v128_store(d + o, MADD(wasm_v128_load(d + o), v, wasm_v128_load(g + o)));
            }
          }
        }
      }
    }
}

/* y[r][o] = sum over filter rows i < kh and taps p < kk of x[i * rs + r * ps + p] * wt[i][p][o], for m
 * pixels r, co a multiple of 8: an output row's interior pixels when all kh filter rows lie inside
 * the image. Each 4x8 block sums all kh * kk products in registers and stores y once; done one
 * filter row at a time (gemm_acc), y would be read and written kh times, which for a first layer's
 * short rows (kk = 3 taps x 3 channels) costs about as much as the products. */
static void conv_rows(const float *x, long rs, long ps, const float *wt, float *y, int m, int co, int kh, int kk) {
  int r = 0;
  for (; r + 4 <= m; r += 4)
    for (int o = 0; o < co; o += 8) {
      v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      for (int i = 0; i < kh; i++) {
        const float *a0 = x + i * rs + r * ps, *a1 = a0 + ps, *a2 = a1 + ps, *a3 = a2 + ps;
        const float *bp = wt + (long)i * kk * co + o;
        for (int p = 0; p < kk; p++, bp += co) {
          MADD_4X8(a0 + p, a1 + p, a2 + p, a3 + p, bp);
        }
      }
      float *cp = y + (long)r * co + o;
      wasm_v128_store(cp, c00); wasm_v128_store(cp + 4, c01); cp += co;
      wasm_v128_store(cp, c10); wasm_v128_store(cp + 4, c11); cp += co;
      wasm_v128_store(cp, c20); wasm_v128_store(cp + 4, c21); cp += co;
      wasm_v128_store(cp, c30); wasm_v128_store(cp + 4, c31);
    }
  for (; r < m; r++)
    for (int o = 0; o < co; o += 8) {
      v128_t c0 = wasm_f32x4_splat(0), c1 = c0;
      for (int i = 0; i < kh; i++) {
        const float *a0 = x + i * rs + r * ps, *bp = wt + (long)i * kk * co + o;
        for (int p = 0; p < kk; p++, bp += co) {
          v128_t x0 = wasm_v128_load32_splat(a0 + p);
          c0 = MADD(c0, x0, wasm_v128_load(bp)); c1 = MADD(c1, x0, wasm_v128_load(bp + 4));
        }
      }
      wasm_v128_store(y + (long)r * co + o, c0); wasm_v128_store(y + (long)r * co + o + 4, c1);
    }
}

/* NHWC convolution y = conv(x, w), w [kh][kw][ci][co], co a multiple of 8, no dilation. Per output
 * row and filter row i, the pixels whose whole filter row lies inside the image form a GEMM with
 * the filter row [kw*ci][co] straight from x (a pixel's (j, c) values are one contiguous run), with
 * nothing packed; border pixels add their in-image taps one by one. Rows whose filter rows all lie
 * inside take their interior pixels in one pass over every filter row (conv_rows). */
EXPORT(conv_forward)
void conv_forward(const float *x, const float *wt, float *y, int nb, int h, int w, int ci, int oh, int ow, int co,
                  int kh, int kw, int sh, int sw, int top, int left) {
  int xa = 0, xb = ow;
  while (xa < ow && xa * sw - left < 0) xa++;
  while (xb > xa && (xb - 1) * sw - left + kw > w) xb--;
  for (int b = 0; b < nb; b++)
    for (int yo = 0; yo < oh; yo++) {
      float *yr = y + ((long)b * oh + yo) * ow * co;
      int y0 = yo * sh - top, whole = xb > xa && y0 >= 0 && y0 + kh <= h;
      if (whole) {
        conv_rows(x + (((long)b * h + y0) * w + xa * sw - left) * ci, (long)w * ci, (long)sw * ci, wt, yr + (long)xa * co, xb - xa, co, kh, kw * ci);
        for (long q = 0; q < (long)xa * co; q++) yr[q] = 0;
        for (long q = (long)xb * co; q < (long)ow * co; q++) yr[q] = 0;
      } else {
        for (long q = 0; q < (long)ow * co; q++) yr[q] = 0;
      }
      for (int i = 0; i < kh; i++) {
        int yy = y0 + i;
        if (yy < 0 || yy >= h) continue;
        const float *xr = x + ((long)b * h + yy) * w * ci;
        const float *wi = wt + (long)i * kw * ci * co;
        if (xb > xa && !whole) gemm_acc(xr + (long)(xa * sw - left) * ci, (long)sw * ci, 1, wi, yr + (long)xa * co, xb - xa, co, kw * ci);
        for (int xo = 0; xo < ow; xo++) {
          if (xo == xa && xb > xa) xo = xb;
          if (xo >= ow) break;
          /* A border pixel: its in-image taps j0 <= j < j1 are still one run of x. */
          int j0 = left - xo * sw > 0 ? left - xo * sw : 0;
          int j1 = w + left - xo * sw < kw ? w + left - xo * sw : kw;
          if (j1 > j0) gemm_acc(xr + (long)(xo * sw + j0 - left) * ci, 0, 1, wi + (long)j0 * ci * co, yr + (long)xo * co, 1, co, (j1 - j0) * ci);
        }
      }
    }
}

/* Winograd convolutions (forward and filter gradient) share gemm_into above. */
#include "winograd.c"
