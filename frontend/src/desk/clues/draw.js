// How the review map paints its tiles: clue markers and clusters, the heat of clues, reaches.
import { STATUSES, statusColour } from "./words.js";

/** A cluster's radius in pixels for `count` clues (a single clue is a small dot). */
export function markerRadius(count) {
  return count <= 1 ? 7 : Math.min(24, 11 + 3 * Math.log10(count) * 1.6);
}

function shortCount(count) {
  if (count >= 10000) return `${Math.round(count / 1000)}k`;
  if (count >= 1000) return `${(count / 1000).toFixed(1)}k`;
  return String(count);
}

/** Clues: a dot in the status's colour, or a ring whose arcs are the cluster's statuses, with its count. */
export function drawClues(ctx, layers) {
  for (const { properties: p, rings } of layers.clues || []) {
    const [x, y] = rings[0][0];
    const r = markerRadius(p.count);
    if (p.count === 1) {
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.fillStyle = statusColour(p.status);
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = "#fff";
      ctx.stroke();
      continue;
    }
    let angle = -Math.PI / 2;
    for (const [code] of STATUSES) {
      const n = p[code];
      if (!n) continue;
      const sweep = (2 * Math.PI * n) / p.count;
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.arc(x, y, r, angle, angle + sweep);
      ctx.closePath();
      ctx.fillStyle = statusColour(code);
      ctx.fill();
      angle += sweep;
    }
    ctx.beginPath();
    ctx.arc(x, y, r * 0.62, 0, 2 * Math.PI);
    ctx.fillStyle = "rgba(255,255,255,0.95)";
    ctx.fill();
    ctx.fillStyle = "#17202a";
    ctx.font = `600 ${r > 16 ? 11 : 10}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(shortCount(p.count), x, y + 0.5);
  }
}

// --- heat: a blurred brush per cell, then each pixel's density mapped onto a colour ramp ----------
const HEAT_RADIUS = 14;
const HEAT_BLUR = 10;
const HEAT_SATURATION = 40; // clues in one 8-px cell that give the hottest colour
let brush = null;
let palette = null;

function heatBrush() {
  if (brush) return brush;
  const r = HEAT_RADIUS + HEAT_BLUR;
  brush = document.createElement("canvas");
  brush.width = brush.height = r * 2;
  const ctx = brush.getContext("2d");
  ctx.shadowOffsetX = ctx.shadowOffsetY = r * 2;
  ctx.shadowBlur = HEAT_BLUR;
  ctx.shadowColor = "black";
  ctx.beginPath();
  ctx.arc(-r, -r, HEAT_RADIUS, 0, Math.PI * 2, true);
  ctx.closePath();
  ctx.fill();
  return brush;
}

function heatPalette() {
  if (palette) return palette;
  const canvas = document.createElement("canvas");
  canvas.width = 1;
  canvas.height = 256;
  const ctx = canvas.getContext("2d");
  const gradient = ctx.createLinearGradient(0, 0, 0, 256);
  const stops = { 0.3: "#2c7bb6", 0.5: "#abd9e9", 0.65: "#ffffbf", 0.8: "#fdae61", 1.0: "#d7191c" };
  for (const [stop, colour] of Object.entries(stops)) gradient.addColorStop(Number(stop), colour);
  ctx.fillStyle = gradient;
  ctx.fillRect(0, 0, 1, 256);
  palette = ctx.getImageData(0, 0, 1, 256).data;
  return palette;
}

/** The heat of clues: the tile's cells (and its neighbours' within the blur) as one coloured density. */
export function drawHeat(ctx, layers) {
  const cells = layers["clue-heat"] || [];
  if (!cells.length) return;
  const stamp = heatBrush();
  const r = HEAT_RADIUS + HEAT_BLUR;
  for (const { properties: p, rings } of cells) {
    const [x, y] = rings[0][0];
    ctx.globalAlpha = Math.min(1, 0.08 + Math.log1p(p.count) / Math.log1p(HEAT_SATURATION));
    ctx.drawImage(stamp, x - r, y - r);
  }
  ctx.globalAlpha = 1;
  const { width, height } = ctx.canvas;
  const image = ctx.getImageData(0, 0, width, height);
  const pixels = image.data;
  const ramp = heatPalette();
  for (let i = 3; i < pixels.length; i += 4) {
    const alpha = pixels[i];
    if (!alpha) continue;
    const k = alpha * 4;
    pixels[i - 3] = ramp[k];
    pixels[i - 2] = ramp[k + 1];
    pixels[i - 1] = ramp[k + 2];
    pixels[i] = Math.min(255, 40 + alpha);
  }
  ctx.putImageData(image, 0, 0);
}

/** Reaches: blue lines; a cross-district reach (跨区划) thicker, in red. */
export function drawReaches(ctx, layers) {
  const reaches = layers.reaches || [];
  for (const cross of [false, true]) {
    ctx.beginPath();
    for (const { properties: p, rings } of reaches) {
      if (Boolean(p.is_cross_district) !== cross) continue;
      for (const ring of rings) {
        ring.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      }
    }
    ctx.lineWidth = cross ? 4 : 2;
    ctx.strokeStyle = cross ? "#c0392b" : "#2e86c1";
    ctx.lineJoin = ctx.lineCap = "round";
    ctx.stroke();
  }
}
