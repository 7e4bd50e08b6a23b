import { resizeArea, stainCentroid, type PixelImage } from '../../shared/index.ts';

/**
 * The photo's white cell magnified `zoom` times about itself, in a frame of the same size: what
 * a microscope at another magnification shows of the same smear.
 */
export function magnifyCell(image: PixelImage, zoom: number): PixelImage {
  const w = image.width / zoom, h = image.height / zoom;
  const c = stainCentroid(image) ?? { x: image.width / 2, y: image.height / 2 };
  const box = { x: Math.min(Math.max(c.x - w / 2, 0), image.width - w), y: Math.min(Math.max(c.y - h / 2, 0), image.height - h), width: w, height: h };
  return { data: resizeArea(image, box, image.width, image.height), width: image.width, height: image.height, channels: 3 };
}

/**
 * Photos of things other than a stained smear, drawn here so the tests need no outside files:
 * colour gradients, checkerboards and stripes at several scales, coloured discs on a plain
 * ground (the nearest thing to cells), cloudy landscapes and pages of text.
 */
export function otherScenes(width = 320, height = 240, seed = 11): { kind: string; image: PixelImage }[] {
  let state = seed;
  const random = () => (state = (state * 16807) % 2147483647) / 2147483647;
  const colour = () => [0, 0, 0].map(() => Math.floor(256 * random()));
  const draw = (pixel: (x: number, y: number) => number[]): PixelImage => {
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data.set(pixel(x, y).map((v) => Math.max(0, Math.min(255, Math.round(v)))), (y * width + x) * 3);
    }
    return { data, width, height, channels: 3 };
  };
  const mix = (a: number[], b: number[], t: number) => a.map((v, i) => v + (b[i] - v) * t);
  const scenes: { kind: string; image: PixelImage }[] = [];
  for (let i = 0; i < 8; i++) {
    const [a, b, angle] = [colour(), colour(), random() * Math.PI];
    const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
    scenes.push({ kind: 'gradient', image: draw((x, y) => mix(a, b, Math.abs(((x - width / 2) * dx + (y - height / 2) * dy) / width + 0.5) % 1)) });
  }
  for (const cell of [4, 10, 24, 60]) {
    const [a, b] = [colour(), colour()];
    scenes.push({ kind: 'checkerboard', image: draw((x, y) => ((Math.floor(x / cell) + Math.floor(y / cell)) % 2 ? a : b)) });
    scenes.push({ kind: 'stripes', image: draw((x, y) => (Math.floor((x + y) / cell) % 2 ? a : b)) });
  }
  for (let i = 0; i < 8; i++) {
    const ground = colour();
    const discs = Array.from({ length: 3 + Math.floor(random() * 20) }, () => ({ x: random() * width, y: random() * height, r: 5 + random() * 50, c: colour() }));
    scenes.push({ kind: 'discs', image: draw((x, y) => discs.find((d) => (x - d.x) ** 2 + (y - d.y) ** 2 < d.r ** 2)?.c ?? ground) });
  }
  for (let i = 0; i < 6; i++) {
    const [sky, land] = [mix([90, 140, 230], colour(), 0.3), mix([60, 130, 50], colour(), 0.3)];
    const horizon = height * (0.3 + 0.4 * random());
    const waves = Array.from({ length: 6 }, () => ({ f: 0.005 + random() * 0.05, p: random() * 6, a: random() }));
    const cloud = (x: number, y: number) => waves.reduce((s, w) => s + w.a * Math.sin(w.f * x + w.p) * Math.cos(w.f * 1.3 * y - w.p), 0);
    scenes.push({ kind: 'landscape', image: draw((x, y) => (y < horizon + 10 * Math.sin(x / 30) ? mix(sky, [255, 255, 255], Math.max(0, cloud(x, y)) / 3) : mix(land, [30, 20, 10], Math.abs(cloud(y, x)) / 3))) });
  }
  for (let i = 0; i < 6; i++) {
    const [paper, ink] = [mix([250, 248, 240], colour(), 0.1), mix([20, 20, 30], colour(), 0.2)];
    const line = 8 + Math.floor(random() * 10);
    const words = Array.from({ length: 400 }, () => 2 + Math.floor(random() * 9));
    scenes.push({ kind: 'text', image: draw((x, y) => {
      const row = Math.floor(y / line), inLine = y % line;
      if (inLine < line * 0.3 || inLine > line * 0.8 || x < 16 || x > width - 16) return paper;
      let at = 16 + (row * 37) % 11, w = row * 13;
      while (at < x) at += words[w++ % words.length] * 4 + 6;
      return (at - x) > 6 && Math.floor(x / 2 + y) % 3 ? ink : paper;
    }) });
  }
  return scenes;
}
