/*
 * Winograd's F(4x4, 3x3) for a stride-1 3x3 convolution, included by kernels.c (its GEMM loops and
 * MADD): each 4x4 block of outputs comes from a 6x6 patch of x through 36 products per channel
 * pair instead of 144, 4x fewer multiplications than a direct convolution (F(2x2, 3x3), which this
 * replaced, saves 2.25x). The 36 products per tile form 36 GEMMs of [tiles][ci] x [ci][co], run
 * over blocks of WG_TILES tiles so that a block's transformed inputs and products stay in cache.
 * The transforms use the points 0, +-1, +-2 (Lavin and Gray); for 3x3 filters their float32 error
 * stays under 1e-5 of the largest output.
 */
#define WG_TILES 32
/* Floats between the 36 planes of a block's scratch beyond WG_TILES * channels: with 32 or 64
 * channels a plane is a multiple of 4 KiB, so the 36 stores of one tile's transform all fell into
 * one set of the L1 cache and evicted each other (the F(2x2) kernel ran 30-40% slower so). */
#define WG_SKEW 16
#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store((p), (v))
#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define UNROLL _Pragma("clang loop unroll(full)")
static inline __attribute__((always_inline)) v128_t scale4(float k, v128_t v) { return wasm_f32x4_mul(wasm_f32x4_splat(k), v); }
/* out (m x m) = T in T^T for in (n x n), row-major, by f, the 1-D transform f(in, out, in stride,
 * out stride) of one column of n values into m: each column into tmp (m x n), then each of tmp's
 * rows. Every transform below (input, filter, output, and the filter gradient's two) is one. */
#define TRANSFORM_2D(f, in, n, tmp, out, m) do { \
    UNROLL for (int j_ = 0; j_ < (n); j_++) f((in) + j_, (tmp) + j_, (n), (n)); \
    UNROLL for (int i_ = 0; i_ < (m); i_++) f((tmp) + (n) * i_, (out) + (m) * i_, 1, 1); \
  } while (0)

/* Tile t of a th x tw grid of 4x4 output blocks per image: its image, and the row and column of its
 * block's first output. */
static inline __attribute__((always_inline)) int tile_at(long t, int th, int tw, int *row, int *col) {
  int r = (int)(t % ((long)th * tw));
  *row = (r / tw) * 4; *col = (r % tw) * 4;
  return (int)(t / ((long)th * tw));
}

/* B^T d for one column of six: B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]. */
static inline __attribute__((always_inline)) void bt6(const v128_t *d, v128_t *r, int s, int rs) {
  v128_t t1 = SUB(d[4 * s], scale4(4, d[2 * s])), t2 = SUB(d[3 * s], scale4(4, d[s]));
  v128_t t3 = SUB(d[4 * s], d[2 * s]), t4 = scale4(2, SUB(d[3 * s], d[s]));
  r[0] = ADD(scale4(4, SUB(d[0], d[2 * s])), t3);
  r[rs] = ADD(t1, t2); r[2 * rs] = SUB(t1, t2);
  r[3 * rs] = ADD(t3, t4); r[4 * rs] = SUB(t3, t4);
  r[5 * rs] = ADD(scale4(4, SUB(d[s], d[3 * s])), SUB(d[5 * s], d[3 * s]));
}

/* v[e][k][c] = (B^T d B)[e] for the 6x6 patch d of x under tile t0 + k (k < nt) and each channel;
 * tiles run over (b, tile row, tile column) of a th x tw grid of 4x4 output blocks, whose patches
 * start at (4 row - top, 4 column - left). */
static inline __attribute__((always_inline)) void wg_inputs(const float *x, float *v, long t0, int nt, int h, int w, int ci,
                                                             int th, int tw, int top, int left) {
  long vs = (long)WG_TILES * ci + WG_SKEW, rs = (long)w * ci;
  v128_t zero = wasm_f32x4_splat(0);
  for (int k = 0; k < nt; k++) {
    int y0, x0, b = tile_at(t0 + k, th, tw, &y0, &x0);
    y0 -= top; x0 -= left;
    int in[6][6];
    UNROLL for (int i = 0; i < 6; i++) UNROLL for (int j = 0; j < 6; j++)
      in[i][j] = y0 + i >= 0 && y0 + i < h && x0 + j >= 0 && x0 + j < w;
    const float *p = x + (((long)b * h + y0) * w + x0) * ci;
    float *dv = v + (long)k * ci;
    for (int c = 0; c < ci; c += 4) {
      v128_t d[36], s[36];
      UNROLL for (int i = 0; i < 6; i++) UNROLL for (int j = 0; j < 6; j++)
        d[6 * i + j] = in[i][j] ? LD(p + i * rs + j * ci + c) : zero;
      TRANSFORM_2D(bt6, d, 6, s, d, 6);
      UNROLL for (int e = 0; e < 36; e++) ST(dv + c + e * vs, d[e]);
    }
  }
}

/* u[e][c][o] (planes of ci * co + WG_SKEW floats) = (G g G^T)[e] for g [3][3][ci][co], G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]. */
static inline __attribute__((always_inline)) void g6(const v128_t *g, v128_t *u, int gs, int us) {
  v128_t p = ADD(g[0], g[2 * gs]), q = ADD(scale4(1.f / 24, g[0]), scale4(1.f / 6, g[2 * gs])), g1 = g[gs];
  u[0] = scale4(0.25f, g[0]);
  u[us] = scale4(-1.f / 6, ADD(p, g1)); u[2 * us] = scale4(-1.f / 6, SUB(p, g1));
  u[3 * us] = ADD(q, scale4(1.f / 12, g1)); u[4 * us] = SUB(q, scale4(1.f / 12, g1));
  u[5 * us] = g[2 * gs];
}

EXPORT(winograd_filter)
void winograd_filter(const float *g, float *u, int ci, int co) {
  long s = (long)ci * co, us = s + WG_SKEW;
  for (long q = 0; q < s; q += 4) {
    v128_t gv[9], t[18], uv[36];
    UNROLL for (int e = 0; e < 9; e++) gv[e] = LD(g + q + e * s);
    TRANSFORM_2D(g6, gv, 3, t, uv, 6);
    UNROLL for (int e = 0; e < 36; e++) ST(u + q + e * us, uv[e]);
  }
}

/* A^T m for one column of six: A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]. */
static inline __attribute__((always_inline)) void at6(const v128_t *m, v128_t *y, int ms, int ys) {
  v128_t a = ADD(m[ms], m[2 * ms]), b = SUB(m[ms], m[2 * ms]), c = ADD(m[3 * ms], m[4 * ms]), d = SUB(m[3 * ms], m[4 * ms]);
  y[0] = ADD(ADD(m[0], a), c); y[ys] = ADD(b, scale4(2, d));
  y[2 * ys] = ADD(a, scale4(4, c)); y[3 * ys] = ADD(ADD(b, scale4(8, d)), m[5 * ms]);
}

/* y = conv(x, w) for a 3x3 filter, stride 1, no dilation, ci a multiple of 4 and co of 8, from
 * u = winograd_filter(w); the padding stays implicit. v and m are scratch of
 * 36 * (WG_TILES * ci + WG_SKEW) and 36 * (WG_TILES * co + WG_SKEW) floats. */
EXPORT(winograd_conv)
void winograd_conv(const float *x, const float *u, float *y, float *v, float *m, int nb, int h, int w, int ci,
                    int oh, int ow, int co, int top, int left) {
  int th = (oh + 3) / 4, tw = (ow + 3) / 4;
  long tiles = (long)nb * th * tw, vs = (long)WG_TILES * ci + WG_SKEW, ms = (long)WG_TILES * co + WG_SKEW, us = (long)ci * co + WG_SKEW;
  for (long t0 = 0; t0 < tiles; t0 += WG_TILES) {
    int nt = tiles - t0 < WG_TILES ? (int)(tiles - t0) : WG_TILES;
    wg_inputs(x, v, t0, nt, h, w, ci, th, tw, top, left);
    for (int e = 0; e < 36; e++) gemm_into(v + e * vs, ci, 1, u + e * us, m + e * ms, nt, co, ci, 0);
    for (int k = 0; k < nt; k++) {
      int yo, xo, b = tile_at(t0 + k, th, tw, &yo, &xo);
      int rows = oh - yo < 4 ? oh - yo : 4, cols = ow - xo < 4 ? ow - xo : 4;
      float *out = y + (((long)b * oh + yo) * ow + xo) * co;
      const float *q = m + (long)k * co;
      for (int o = 0; o < co; o += 4) {
        v128_t mv[36], s[24], yv[16];
        UNROLL for (int e = 0; e < 36; e++) mv[e] = LD(q + o + e * ms);
        TRANSFORM_2D(at6, mv, 6, s, yv, 4);
        if (rows == 4 && cols == 4) {
          UNROLL for (int i = 0; i < 4; i++) UNROLL for (int j = 0; j < 4; j++) ST(out + ((long)i * ow + j) * co + o, yv[4 * i + j]);
        } else {
          UNROLL for (int i = 0; i < 4; i++) UNROLL for (int j = 0; j < 4; j++)
            if (i < rows && j < cols) ST(out + ((long)i * ow + j) * co + o, yv[4 * i + j]);
        }
      }
    }
  }
}

/* A g for one column of four dy values, A = (A^T)^T: what dy's 4x4 block takes in the filter gradient. */
static inline __attribute__((always_inline)) void a6(const v128_t *g, v128_t *e, int gs, int es) {
  v128_t p = ADD(g[0], g[2 * gs]), q = ADD(g[gs], g[3 * gs]);
  v128_t p2 = ADD(g[0], scale4(4, g[2 * gs])), q2 = ADD(scale4(2, g[gs]), scale4(8, g[3 * gs]));
  e[0] = g[0]; e[es] = ADD(p, q); e[2 * es] = SUB(p, q); e[3 * es] = ADD(p2, q2); e[4 * es] = SUB(p2, q2); e[5 * es] = g[3 * gs];
}

/* G^T m for one column of six, G^T = [1/4 -1/6 -1/6 1/24 1/24 0; 0 -1/6 1/6 1/12 -1/12 0; 0 -1/6 -1/6 1/6 1/6 1]. */
static inline __attribute__((always_inline)) void gt6(const v128_t *m, v128_t *d, int ms, int ds) {
  v128_t a = ADD(m[ms], m[2 * ms]), b = SUB(m[ms], m[2 * ms]), c = ADD(m[3 * ms], m[4 * ms]), e = SUB(m[3 * ms], m[4 * ms]);
  d[0] = ADD(SUB(scale4(0.25f, m[0]), scale4(1.f / 6, a)), scale4(1.f / 24, c));
  d[ds] = SUB(scale4(1.f / 12, e), scale4(1.f / 6, b));
  d[2 * ds] = ADD(scale4(1.f / 6, SUB(c, a)), m[5 * ms]);
}

/* The filter gradient of winograd_conv's convolution, by the same transform read backwards (F(3x3, 4x4)): dw = G^T [sum over tiles of
 * (B^T d B) * (A dy A^T)] G per channel pair, the sum 36 GEMMs of [ci][tiles] x [tiles][co] into m
 * (36 * (ci * co + WG_SKEW) floats); v and q are scratch of 36 * (WG_TILES * ci + WG_SKEW) and
 * 36 * (WG_TILES * co + WG_SKEW) floats. */
EXPORT(winograd_filter_grad)
void winograd_filter_grad(const float *x, const float *dy, float *dw, float *v, float *q, float *m, int nb, int h, int w, int ci,
                           int oh, int ow, int co, int top, int left) {
  int th = (oh + 3) / 4, tw = (ow + 3) / 4;
  long tiles = (long)nb * th * tw, vs = (long)WG_TILES * ci + WG_SKEW, qs = (long)WG_TILES * co + WG_SKEW, ws = (long)ci * co, us = ws + WG_SKEW;
  v128_t zero = wasm_f32x4_splat(0);
  for (long i = 0; i < 36 * us; i++) m[i] = 0;
  for (long t0 = 0; t0 < tiles; t0 += WG_TILES) {
    int nt = tiles - t0 < WG_TILES ? (int)(tiles - t0) : WG_TILES;
    wg_inputs(x, v, t0, nt, h, w, ci, th, tw, top, left);
    for (int k = 0; k < nt; k++) {
      int yo, xo, b = tile_at(t0 + k, th, tw, &yo, &xo);
      int rows = oh - yo < 4 ? oh - yo : 4, cols = ow - xo < 4 ? ow - xo : 4;
      const float *g = dy + (((long)b * oh + yo) * ow + xo) * co;
      float *dq = q + (long)k * co;
      for (int o = 0; o < co; o += 4) {
        v128_t gv[16], s[24], e[36];
        UNROLL for (int i = 0; i < 4; i++) UNROLL for (int j = 0; j < 4; j++)
          gv[4 * i + j] = i < rows && j < cols ? LD(g + ((long)i * ow + j) * co + o) : zero;
        TRANSFORM_2D(a6, gv, 4, s, e, 6);
        UNROLL for (int n = 0; n < 36; n++) ST(dq + o + n * qs, e[n]);
      }
    }
    for (int e = 0; e < 36; e++) gemm_acc(v + e * vs, 1, ci, q + e * qs, m + e * us, ci, co, nt);
  }
  for (long i = 0; i < ws; i += 4) {
    v128_t mv[36], t[18], d[9];
    UNROLL for (int e = 0; e < 36; e++) mv[e] = LD(m + i + e * us);
    TRANSFORM_2D(gt6, mv, 6, t, d, 3);
    UNROLL for (int e = 0; e < 9; e++) ST(dw + i + e * ws, d[e]);
  }
}
#undef TRANSFORM_2D
#undef UNROLL
#undef LD
#undef ST
#undef ADD
#undef SUB
