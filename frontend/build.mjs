// Build the pages' static files into static/frontend/build/ (git ignores it; scripts/frontend.sh runs this).
//   patrol.js, patrol.css   the patrol app, Leaflet and idb bundled by esbuild
//   sw.js                   the patrol app's service worker (served at /patrol/sw.js), its cache named by version
//   icon-192.png, icon-512.png  the web app manifest's icons, drawn here
//   desk/<page>.js, .css   the desk's pages (DESK_PAGES); admin/leaflet-gcj02.js  the admin maps' GCJ-02 tiles
//   build.json              {version, sources, assets}: the version names the caches; `sources` is the hash
//                           tests/frontend/test_build.py compares with the sources to tell a stale build
// The catalogs (locale/*/LC_MESSAGES/*.po → .mo) are compiled here too, with msgfmt (Debian's gettext).
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "static", "frontend", "build");
const STATIC_PREFIX = "/static/frontend/build/";
// The desk's pages, each a bundle of its own: src/desk/<page>.js → build/desk/<page>.js (+ .css).
const DESK_PAGES = ["clues", "clue", "liaison", "register"];

/** Every file under `dir`, sorted, as paths relative to `here` (the same walk as the Python test's). */
function walk(dir) {
  const files = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...walk(path));
    else files.push(path);
  }
  return files;
}

/** The translation catalogs (.po) of every language: msgfmt compiles each next to itself (git ignores .mo). */
function catalogs() {
  return walk(join(here, "locale")).filter((path) => path.endsWith(".po"));
}

/** The hash of what the build reads: the sources, this script, the lockfile and the catalog. */
export function sourcesHash() {
  const inputs = [...walk(join(here, "src")), join(here, "build.mjs"), join(here, "package-lock.json"), ...catalogs()];
  const hash = createHash("sha256");
  for (const path of inputs) {
    hash.update(relative(here, path).split("\\").join("/") + "\0");
    hash.update(readFileSync(path));
    hash.update("\0");
  }
  return hash.digest("hex");
}

// --- PNG icons: a river (white waves) on the app's blue, drawn pixel by pixel -------------------
function crc32(bytes) {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function icon(size) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 3); // filter byte 0, then RGB
    for (let x = 0; x < size; x++) {
      const u = x / size, v = y / size;
      let rgb = [0x0b, 0x4f, 0x8a]; // the app's blue
      for (const base of [0.42, 0.58, 0.74]) {
        const wave = base + 0.04 * Math.sin(u * Math.PI * 4);
        if (Math.abs(v - wave) < 0.035 && u > 0.14 && u < 0.86) rgb = [0xff, 0xff, 0xff];
      }
      const cx = u - 0.5, cy = v - 0.24; // a sun: patrols happen by day
      if (cx * cx + cy * cy < 0.012) rgb = [0xff, 0xc8, 0x2e];
      row.set(rgb, 1 + x * 3);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

async function build() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const sources = sourcesHash();
  const common = { bundle: true, minify: true, target: ["es2020", "chrome90", "safari14"], logLevel: "warning" };
  await esbuild.build({
    ...common,
    entryPoints: { patrol: join(here, "src", "patrol", "main.js") },
    outdir: out,
    format: "iife",
    sourcemap: false,
    loader: { ".png": "file", ".svg": "file" },
    assetNames: "[name]-[hash]",
  });
  for (const size of [192, 512]) writeFileSync(join(out, `icon-${size}.png`), icon(size));
  // The version names the service worker's cache: any change to what it serves makes a new one.
  const assets = readdirSync(out).sort();
  // The desk's pages (frontend/src/desk/): one bundle per page in build/desk/, kept out of the patrol
  // app's offline cache (a phone has no use for them).
  await esbuild.build({
    ...common,
    entryPoints: Object.fromEntries(DESK_PAGES.map((page) => [page, join(here, "src", "desk", `${page}.js`)])),
    outdir: join(out, "desk"),
    format: "iife",
    sourcemap: false,
    loader: { ".png": "file", ".svg": "file" },
    assetNames: "[name]-[hash]",
  });
  const desk = readdirSync(join(out, "desk")).sort();
  // The admin's map widgets: 高德's GCJ-02 tiles shifted onto the data (LEAFLET_CONFIG["PLUGINS"]).
  await esbuild.build({
    ...common,
    entryPoints: { "leaflet-gcj02": join(here, "src", "admin", "leaflet-gcj02.js") },
    outdir: join(out, "admin"),
    format: "iife",
  });
  const version = createHash("sha256").update(readFileSync(join(here, "src", "patrol", "sw.js")));
  for (const name of assets) version.update(name + "\0").update(readFileSync(join(out, name)));
  const versionId = version.digest("hex").slice(0, 16);
  await esbuild.build({
    ...common,
    entryPoints: { sw: join(here, "src", "patrol", "sw.js") },
    outdir: out,
    format: "iife",
    define: {
      __VERSION__: JSON.stringify(versionId),
      __ASSETS__: JSON.stringify(assets.map((name) => `${STATIC_PREFIX}${name}?v=${versionId}`)),
    },
  });
  const deskVersion = createHash("sha256");
  for (const name of desk) deskVersion.update(name + "\0").update(readFileSync(join(out, "desk", name)));
  const build = { version: versionId, sources, assets, desk: { version: deskVersion.digest("hex").slice(0, 16), assets: desk } };
  writeFileSync(join(out, "build.json"), JSON.stringify(build, null, 2) + "\n");
  for (const po of catalogs()) execFileSync("msgfmt", ["--check-format", "-o", po.replace(/\.po$/, ".mo"), po]);
  console.log(`frontend built: ${assets.length} files, version ${versionId}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build();
}
