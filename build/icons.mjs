#!/usr/bin/env node
// Draws Sluice's icons with plain pixel math (signed distances, 4x4 supersampling) and encodes
// them as PNG with node:zlib: the 512 px app icon and the tray icons per state (16 px, @2x 32 px).
// Run `node build/icons.mjs` to regenerate the committed files; imports node built-ins only.
import { deflateSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const TRAY_STATES = ['on', 'off', 'degraded', 'error'];

// ---- PNG encoding (RFC 2083): 8-bit RGBA, filter 0 on every scanline ----
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export function encodePng(width, height, rgba) {
  if (rgba.length !== width * height * 4) throw new Error('rgba length does not match the size');
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0;
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(raw, y * (width * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- Drawing: shapes are signed distance functions in unit coordinates (0..1) ----
const clamp01 = (v) => Math.min(1, Math.max(0, v));
const hex = (h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];

function sdCircle(x, y, cx, cy, r) { return Math.hypot(x - cx, y - cy) - r; }
function sdRoundRect(x, y, x0, y0, x1, y1, r) {
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const qx = Math.abs(x - cx) - ((x1 - x0) / 2 - r);
  const qy = Math.abs(y - cy) - ((y1 - y0) / 2 - r);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}
function sdSegment(x, y, ax, ay, bx, by, r) {
  const px = x - ax, py = y - ay, dx = bx - ax, dy = by - ay;
  const h = clamp01((px * dx + py * dy) / (dx * dx + dy * dy));
  return Math.hypot(px - dx * h, py - dy * h) - r;
}
/** Distance to the curve y = y0 + a sin(k x), first-order corrected, minus half the thickness. */
function sdWave(x, y, y0, a, k, phase, r) {
  const f = y - (y0 + a * Math.sin(k * x + phase));
  const slope = a * k * Math.cos(k * x + phase);
  return Math.abs(f) / Math.sqrt(1 + slope * slope) - r;
}

/** Rasterises `layers` (back to front: [{ sd(x,y), color(x,y) -> [r,g,b], alpha? }]) at `size`. */
export function rasterize(size, layers) {
  const px = new Uint8Array(size * size * 4);
  const S = 4;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const x = (i + (sx + 0.5) / S) / size;
          const y = (j + (sy + 0.5) / S) / size;
          // "over" compositing of premultiplied colour, per sample.
          let cr = 0, cg = 0, cb = 0, ca = 0;
          for (const l of layers) {
            if (l.sd(x, y) > 0) continue;
            const [lr, lg, lb] = l.color(x, y);
            const la = l.alpha ?? 1;
            cr = lr * la + cr * (1 - la);
            cg = lg * la + cg * (1 - la);
            cb = lb * la + cb * (1 - la);
            ca = la + ca * (1 - la);
          }
          r += cr; g += cg; b += cb; a += ca;
        }
      }
      const n = S * S;
      const o = (j * size + i) * 4;
      const alpha = a / n;
      px[o] = alpha ? Math.round(r / n / alpha) : 0;
      px[o + 1] = alpha ? Math.round(g / n / alpha) : 0;
      px[o + 2] = alpha ? Math.round(b / n / alpha) : 0;
      px[o + 3] = Math.round(alpha * 255);
    }
  }
  return px;
}

/** The app icon: two gate posts, a gate bar and water flowing under it, on a teal-to-blue tile. */
export function drawAppIcon(size) {
  const top = hex('#0f766e'), bottom = hex('#1e40af');
  const white = () => [255, 255, 255];
  const water = () => hex('#bae6fd');
  const m = 0.06;
  return rasterize(size, [
    {
      sd: (x, y) => sdRoundRect(x, y, m, m, 1 - m, 1 - m, 0.2),
      color: (x, y) => { const t = clamp01((x * 0.3 + y * 0.7 - m) / (1 - 2 * m)); return top.map((c, i) => c + (bottom[i] - c) * t); },
    },
    { sd: (x, y) => sdRoundRect(x, y, 0.25, 0.22, 0.33, 0.8, 0.04), color: white },
    { sd: (x, y) => sdRoundRect(x, y, 0.67, 0.22, 0.75, 0.8, 0.04), color: white },
    { sd: (x, y) => sdRoundRect(x, y, 0.33, 0.3, 0.67, 0.46, 0.02), color: white, alpha: 0.92 },
    { sd: (x, y) => Math.max(sdWave(x, y, 0.58, 0.025, 28, 0, 0.022), Math.abs(x - 0.5) - 0.17), color: water },
    { sd: (x, y) => Math.max(sdWave(x, y, 0.69, 0.025, 28, 1.6, 0.022), Math.abs(x - 0.5) - 0.17), color: water },
  ]);
}

const STATE_COLOR = { on: '#1a7f37', off: '#8c959f', degraded: '#bf8700', error: '#cf222e' };

/**
 * A tray icon: a ring in the state's colour, and a second cue that does not rely on colour:
 * on = filled centre, off = empty ring, degraded = half-filled centre, error = a cross.
 */
export function drawTrayIcon(size, state) {
  const c = hex(STATE_COLOR[state]);
  const color = () => c;
  const ring = { sd: (x, y) => Math.abs(sdCircle(x, y, 0.5, 0.5, 0.38)) - 0.085, color };
  const layers = [ring];
  if (state === 'on') layers.push({ sd: (x, y) => sdCircle(x, y, 0.5, 0.5, 0.17), color });
  if (state === 'degraded') layers.push({ sd: (x, y) => Math.max(sdCircle(x, y, 0.5, 0.5, 0.17), 0.5 - y), color });
  if (state === 'error') {
    layers.push({ sd: (x, y) => Math.min(sdSegment(x, y, 0.36, 0.36, 0.64, 0.64, 0.07), sdSegment(x, y, 0.64, 0.36, 0.36, 0.64, 0.07)), color });
  }
  if (!TRAY_STATES.includes(state)) throw new Error(`unknown tray state ${state}`);
  return rasterize(size, layers);
}

/** Every icon file this script writes, relative to build/, with its pixels. */
export function iconSet() {
  const files = [{ path: 'icon.png', size: 512, draw: () => drawAppIcon(512) }];
  for (const s of TRAY_STATES) {
    files.push({ path: `tray/tray-${s}.png`, size: 16, draw: () => drawTrayIcon(16, s) });
    files.push({ path: `tray/tray-${s}@2x.png`, size: 32, draw: () => drawTrayIcon(32, s) });
  }
  return files;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = dirname(fileURLToPath(import.meta.url));
  for (const f of iconSet()) {
    const out = join(dir, f.path);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, encodePng(f.size, f.size, f.draw()));
    console.log(`wrote build/${f.path} (${f.size}x${f.size})`);
  }
}
