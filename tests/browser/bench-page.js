// How smooth a page made by `nn-render html` is in a real Chromium (playwright-core, Debian's
// /usr/bin/chromium or $CHROMIUM): the cost of one full redraw of the points, and the frame
// intervals while the wheel zooms and the mouse drags. A measurement, not a test: it prints.
//
//   node bench-page.js PAGE.html [WIDTHxHEIGHT]
"use strict";
const path = require("path");
const { chromium } = require("playwright-core");

const url = "file://" + path.resolve(process.argv[2] || "");
const [vw, vh] = (process.argv[3] || "1200x800").split("x").map(Number);

function stats(a) {
  const s = [...a].sort((x, y) => x - y), q = f => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return `median ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms ` +
         `(${a.length} frames, ${a.filter(x => x > 34).length} over 34 ms)`;
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: vw, height: vh }, deviceScaleFactor: 1 });
    const t0 = Date.now();
    await page.goto(url, { waitUntil: "load" });
    await page.waitForFunction(() => document.querySelectorAll("#labels button").length > 0, null, { timeout: 120000 });
    await page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
    const loaded = Date.now() - t0;

    // One full redraw of every point at the canvas' size, as the page's draw() does it.
    const full = await page.evaluate(() => {
      const L = nnLib(), D = JSON.parse(document.getElementById("nn-data").textContent);
      const xy = L.decodeXY(L.b64(D.xy), D.n), cls = Uint32Array.from(D.label);
      const on = new Uint8Array(D.labels.length).fill(1), rgb = new Uint8Array(3 * D.labels.length);
      D.colours.forEach((c, k) => rgb.set(L.parseColour(c), 3 * k));
      const cv = document.getElementById("map"), img = new ImageData(cv.width, cv.height);
      const v = L.fitView(L.bounds(xy.xs, xy.ys), cv.width, cv.height, 16 + 2 * D.radius);
      const order = L.drawOrder(D.n), times = [];
      for (let k = 0; k < 15; k++) {
        const t = performance.now();
        new Uint32Array(img.data.buffer).fill(0xffffffff);
        L.renderPoints(img, v, xy.xs, xy.ys, cls, on, order, rgb, D.alpha, D.radius, null);
        cv.getContext("2d").putImageData(img, 0, 0);
        times.push(performance.now() - t);
      }
      return { n: D.n, w: cv.width, h: cv.height, times: times.slice(3) };
    });

    // Frame intervals while interacting: a requestAnimationFrame loop records timestamps.
    await page.evaluate(() => {
      window.__frames = [];
      const tick = t => { window.__frames.push(t); if (window.__frames.length < 100000) requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    });
    const box = await page.locator("#map").boundingBox();
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    await page.mouse.move(cx, cy);
    const mark = async () => page.evaluate(() => window.__frames.length);
    const zoomStart = await mark();
    for (let k = 0; k < 30; k++) await page.mouse.wheel(0, k < 15 ? -120 : 120);
    await page.waitForTimeout(300);
    const panStart = await mark();
    await page.mouse.down();
    for (let k = 0; k < 60; k++) await page.mouse.move(cx + 200 * Math.sin(k / 10), cy + 120 * Math.cos(k / 10));
    await page.mouse.up();
    await page.waitForTimeout(300);
    const end = await mark();
    const frames = await page.evaluate(() => window.__frames);
    const deltas = (a, b) => frames.slice(a + 1, b).map((t, i) => t - frames[a + i]);

    console.log(`page: ${full.n} points, canvas ${full.w}x${full.h}, loaded and drawn in ${loaded} ms`);
    console.log(`full redraw of all points: ${stats(full.times)}`);
    console.log(`frame intervals while zooming (30 wheel steps): ${stats(deltas(zoomStart, panStart))}`);
    console.log(`frame intervals while dragging (60 moves): ${stats(deltas(panStart, end))}`);
  } finally {
    await browser.close();
  }
}

main().catch(e => { console.log(e.message); process.exit(1); });
