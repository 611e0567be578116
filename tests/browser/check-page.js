// Drives a real Chromium (Debian's /usr/bin/chromium, or $CHROMIUM) through playwright-core
// over a page made by `nn-render html`, and checks what a user would do with it: the page
// loads with no console errors and no network requests, hovering a point shows its id, label,
// group (and thumbnail), zooming and panning keep points under the pointer, a legend click
// hides a label's dots, and a search draws its matches with a dark rim.
//
//   node check-page.js PAGE.html [SCREENSHOT.png]
//
// Prints one line per check; exits 1 with the reason at the first failure.
"use strict";
const path = require("path");
const { chromium } = require("playwright-core");

const file = path.resolve(process.argv[2] || "");
const url = "file://" + file;
const shot = process.argv[3];

function check(cond, what) {
  if (!cond) throw new Error("FAILED: " + what);
  console.log("ok - " + what);
}

// Two animation frames: the page has drawn what the last event asked for.
const frames = page => page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));

// Where point i is on the screen in the page's first (fitted) view, through the page's own
// functions (nnLib is the script's global), and the point's names.
function pointAt(page, i) {
  return page.evaluate(i => {
    const L = nnLib(), D = JSON.parse(document.getElementById("nn-data").textContent);
    const xy = L.decodeXY(L.b64(D.xy), D.n), box = L.bounds(xy.xs, xy.ys);
    const r = document.getElementById("plot").getBoundingClientRect();
    const W = Math.floor(r.width), H = Math.floor(r.height);
    const p = L.toScreen(L.fitView(box, W, H, 16 + 2 * D.radius), W, H, xy.xs[i], xy.ys[i]);
    const c = document.getElementById("map").getBoundingClientRect();
    return { x: c.left + p.x, y: c.top + p.y, id: D.id[i], label: D.labels[D.label[i]] || "(none)",
             group: D.group[i], n: D.n, labels: D.labels, colours: D.colours, thumb: !!D.thumb && D.thumb.cell[i] >= 0 };
  }, i);
}

// Pixels of the map canvas by class: for each label, how many pixels are its colour blended
// with white (any opacity); dark: pixels nearly black, with their positions.
function census(page) {
  return page.evaluate(() => {
    const D = JSON.parse(document.getElementById("nn-data").textContent);
    const cv = document.getElementById("map"), ctx = cv.getContext("2d");
    const d = ctx.getImageData(0, 0, cv.width, cv.height).data;
    const cols = D.colours.map(h => [1, 3, 5].map(k => parseInt(h.substr(k, 2), 16)));
    const count = new Array(cols.length).fill(0), dark = [];
    for (let q = 0; q < d.length; q += 4) {
      const px = [d[q], d[q + 1], d[q + 2]];
      if (Math.max(...px) < 60) { dark.push([(q / 4) % cv.width, Math.floor(q / 4 / cv.width)]); continue; }
      cols.forEach((c, k) => {
        const j = [0, 1, 2].reduce((a, b) => (255 - c[b] > 255 - c[a] ? b : a), 0);
        const a = (255 - px[j]) / (255 - c[j]);
        if (a < 0.15 || a > 1.02) return;
        if ([0, 1, 2].every(m => Math.abs(255 - a * (255 - c[m]) - px[m]) <= 8)) count[k]++;
      });
    }
    return { count: count, dark: dark, width: cv.width, dpr: window.devicePixelRatio };
  });
}

async function tip(page) {
  return page.evaluate(() => {
    const $ = id => document.getElementById(id);
    const t = $("tip-thumb");
    let thumb = null;
    if (!t.hidden) {
      const d = t.getContext("2d").getImageData(0, 0, t.width, t.height).data;
      let other = 0;
      for (let q = 0; q < d.length; q += 4) if (d[q] !== 238 || d[q + 1] !== 238 || d[q + 2] !== 238) other++;
      thumb = { w: t.width, h: t.height, drawn: other };
    }
    return { hidden: $("tip").hidden, id: $("tip-id").textContent, label: $("tip-label").textContent,
             group: $("tip-group").textContent, thumb: thumb };
  });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 }, deviceScaleFactor: 1 });
    const problems = [], requests = [];
    // (Chromium's advice on getImageData concerns this script's own readbacks of the canvas.)
    page.on("console", m => {
      if ((m.type() === "error" || m.type() === "warning") && !/willReadFrequently/.test(m.text()))
        problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", e => problems.push("uncaught: " + e.message));
    page.on("request", r => { if (r.url() !== url && !r.url().startsWith("data:")) requests.push(r.url()); });
    await page.goto(url, { waitUntil: "load" });
    await page.waitForFunction(() => document.querySelectorAll("#labels button").length > 0, null, { timeout: 20000 });
    await frames(page);

    const p0 = await pointAt(page, 0);
    check((await page.locator("#labels button").count()) === p0.labels.length,
          `the legend has a button for each of the ${p0.labels.length} labels`);

    // Hover: a few points, each exactly under the pointer.
    for (const i of [0, 1, Math.floor(p0.n / 2), p0.n - 1]) {
      const p = await pointAt(page, i);
      await page.mouse.move(p.x, p.y);
      await frames(page);
      const t = await tip(page);
      check(!t.hidden && t.id === p.id && t.label === p.label && t.group === p.group,
            `hovering point ${i} shows its id ${p.id}, label ${p.label} and group ${p.group} (shown: ${t.hidden ? "nothing" : t.id})`);
      if (p.thumb) check(t.thumb && t.thumb.drawn > 0, `the tooltip draws ${p.id}'s thumbnail`);
      else check(!t.thumb, `the tooltip has no thumbnail for ${p.id} (none embedded)`);
    }

    // Zoom in with the wheel at point 1: it stays under the pointer; then pan by dragging.
    const p1 = await pointAt(page, 1);
    await page.mouse.move(p1.x, p1.y);
    for (let k = 0; k < 5; k++) { await page.mouse.wheel(0, -200); await frames(page); }
    await page.mouse.move(p1.x + 1, p1.y);
    await page.mouse.move(p1.x, p1.y);
    await frames(page);
    check((await tip(page)).id === p1.id, `after zooming in at ${p1.id}, it is still under the pointer`);
    await page.mouse.down();
    await page.mouse.move(p1.x - 40, p1.y + 30, { steps: 5 });
    await page.mouse.up();
    await page.mouse.move(p1.x - 40, p1.y + 30);
    await frames(page);
    check((await tip(page)).id === p1.id, `after dragging by (-40, 30), ${p1.id} moved with the map`);
    await page.click("#reset");
    await page.mouse.move(5, 5);
    await frames(page);

    // The legend: hiding a label removes its dots and nothing else.
    const k = Math.min(1, p0.labels.length - 1);
    const before = await census(page);
    check(before.count[k] > 20, `label ${p0.labels[k]}'s colour is on the map (${before.count[k]} pixels)`);
    await page.locator("#labels button").nth(k).click();
    await page.mouse.move(5, 5);
    await frames(page);
    const after = await census(page);
    const pressed = await page.locator("#labels button").nth(k).getAttribute("aria-pressed");
    check(pressed === "false", `the legend button of ${p0.labels[k]} reads aria-pressed=false`);
    // (none at all on well-separated clusters; on a crowded map, blends of other colours can
    // match a few pixels by chance)
    check(after.count[k] <= before.count[k] / 10,
          `after a click on ${p0.labels[k]} in the legend, its colour is gone (${before.count[k]} -> ${after.count[k]} pixels)`);
    for (let j = 0; j < p0.labels.length; j++)
      if (j !== k && before.count[j] > 20)
        check(after.count[j] > before.count[j] / 2, `label ${p0.labels[j]} is still drawn (${before.count[j]} -> ${after.count[j]} pixels)`);
    let hidden = -1;
    for (let i = 0; i < p0.n && hidden < 0; i++) if ((await pointAt(page, i)).label === p0.labels[k]) hidden = i;
    const ph = await pointAt(page, hidden);
    await page.mouse.move(ph.x, ph.y);
    await frames(page);
    const th = await tip(page);
    check(th.hidden || th.id !== ph.id, `hovering a hidden point (${ph.id}) does not show it`);
    await page.locator("#labels button").nth(k).click();
    await page.mouse.move(5, 5);
    await frames(page);
    check((await census(page)).count[k] > before.count[k] / 2, `a second click shows ${p0.labels[k]} again`);

    // Search: one id; its dot gets a dark rim, and the other dots fade (so no more dark pixels
    // elsewhere than before; the palette has black, and crowded dots can be dark).
    const target = await pointAt(page, Math.floor(p0.n / 3));
    const box = await page.locator("#map").boundingBox();
    const cx = target.x - box.x, cy = target.y - box.y;
    const isNear = ([x, y]) => Math.hypot(x - cx, y - cy) < 12;
    const plain = await census(page);
    await page.fill("#search", target.id);
    await page.mouse.move(5, 5);
    await frames(page);
    const status = await page.textContent("#status");
    const found = await census(page);
    if (shot) await page.screenshot({ path: shot.replace(/(\.png)?$/, "-search.png") });
    check(/^\d+ matching$/.test(status) && status !== "0 matching", `searching ${target.id} reports "${status}"`);
    const near0 = plain.dark.filter(isNear).length, near1 = found.dark.filter(isNear).length;
    check(near1 >= near0 + 10, `the match ${target.id} is ringed in black (dark pixels around it: ${near0} -> ${near1})`);
    if (status === "1 matching") {
      const far0 = plain.dark.length - near0, far1 = found.dark.length - near1;
      check(far1 <= far0, `nothing else is ringed (dark pixels elsewhere: ${far0} -> ${far1})`);
    }
    await page.press("#search", "Escape");
    await frames(page);
    check((await page.textContent("#status")) === "", "Escape clears the search");

    if (shot) {
      const p = await pointAt(page, Math.floor(p0.n / 2));
      await page.mouse.move(p.x, p.y);
      await frames(page);
      await page.screenshot({ path: shot });
      console.log("# screenshot: " + shot);
    }
    check(requests.length === 0, `no network requests${requests.length ? ": " + requests.join(" ") : ""}`);
    check(problems.length === 0, `no console errors or warnings${problems.length ? ": " + problems.join("; ") : ""}`);
  } finally {
    await browser.close();
  }
}

main().catch(e => { console.log(e.message); process.exit(1); });
