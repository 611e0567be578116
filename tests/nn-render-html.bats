#!/usr/bin/env bats
# nn-render html: one self-contained page (no network), the labels and counts, thumbnails in
# sprite sheets, the same bytes twice, escaping, bad input; the page's script under node (with
# a stub DOM) and, where Chromium is installed, in a real browser.

load helper

points() { nn-mkstream -n "${1:-300}" --shape 2 --values clusters --clusters 3; }
images() { nn-mkstream -n "${1:-300}" --shape 8x8x1 --dtype u8; }
# The page's data (the JSON in <script id="nn-data">) and its script, as files.
page_data() { sed -n '/<script type="application\/json" id="nn-data">/,/<\/script>/p' "$1" |
              sed '1s/.*id="nn-data">//; $s/<\/script>$//'; }
page_script() { sed -n '/^<script>$/,/^<\/script>$/p' "$1" | sed '1d;$d'; }

@test "html: --help, --version, and bad usage exits 2" {
    run --separate-stderr nn-render html --help
    assert_success
    assert_line --index 0 "usage: nn-render html [OPTION]... POINTS [IMAGES]"
    assert_output --partial "--max-thumbs N"
    [ -z "$stderr" ]
    run nn-render html --version
    assert_success
    assert_output --regexp '^nn-render \(neuro-noodle\) [0-9]+\.[0-9]+\.[0-9]+$'
    run nn-render html
    assert_failure 2
    assert_line --index 0 "nn-render: no POINTS given"
    run nn-render html --thumb 2 p.nns
    assert_failure 2
    assert_line --index 0 "nn-render: --thumb: '2' is not an integer in [4, 512]"
    run nn-render html p.nns i.nns x.nns
    assert_failure 2
    run nn-render html - - -o page.html
    assert_failure 2
    assert_line --index 0 "nn-render: standard input (-) can be read only once"
    run nn-render html --bogus p.nns
    assert_failure 2
    [ "$(ls -A | grep -c html)" -eq 0 ]
}

@test "html: one self-contained page with the labels, their counts and colours" {
    points > p.nns
    nn-render html p.nns -o page.html
    [ "$(head -c 15 page.html)" = "<!DOCTYPE html>" ]
    ! grep -q 'http://' page.html
    ! grep -q 'https://' page.html
    ! grep -qi 'src="http' page.html
    ! grep -qiE '<(link|img|iframe|object|embed)[ >]' page.html
    ! grep -qiE '<script[^>]* src=' page.html
    grep -qF "Content-Security-Policy\" content=\"default-src 'none';" page.html
    grep -qF '<title>p.nns</title>' page.html
    grep -qF '<span class="info">300 points, 3 labels</span>' page.html
    grep -qF '"labels":["c0","c1","c2"]' page.html
    grep -qF '"counts":[100,100,100]' page.html
    # render_colour's palette, from Okabe-Ito's first colour
    grep -qF '"colours":["#0072b2","#e69f00","#009e73"]' page.html
    grep -qF '"thumb":null' page.html
    [ "$(grep -c '</script>' page.html)" -eq 2 ]
    # the coordinates: 300 x 2 float32, base64
    xy=$(page_data page.html | sed -n 's/.*"xy":"\([^"]*\)".*/\1/p')
    [ "$(printf '%s' "$xy" | base64 -d | wc -c)" -eq 2400 ]
}

@test "html: the same bytes twice; standard input; --title" {
    points > p.nns
    images > i.nns
    nn-render html p.nns i.nns -o a.html
    nn-render html p.nns i.nns -o b.html
    cmp a.html b.html
    nn-render html - i.nns < p.nns > c.html
    grep -qF '<title>standard input</title>' c.html
    cmp <(sed 1,/title/d a.html | grep -v '<h1>') <(sed 1,/title/d c.html | grep -v '<h1>')
    nn-render html --title 'Maps & <things>' p.nns - -o d.html < i.nns
    grep -qF '<title>Maps &amp; &lt;things&gt;</title>' d.html
    grep -qF '<h1>Maps &amp; &lt;things&gt;</h1>' d.html
}

@test "html: thumbnails in PNG sprite sheets; --thumb, --max-thumbs spread evenly" {
    points > p.nns
    images > i.nns
    nn-render html p.nns i.nns -o page.html
    grep -qF '300 points, 3 labels, 300 thumbnails' page.html
    # 8x8 images are kept as they are and shown enlarged to 48 (nearest) by the page
    grep -qF '"thumb":{"w":8,"h":8,"dw":48,"dh":48,' page.html
    png=$(page_data page.html | grep -o 'data:image/png;base64,[^"]*' | head -1 | cut -d, -f2)
    [ "$(printf '%s' "$png" | base64 -d | od -An -tx1 -N8 | tr -d ' \n')" = "89504e470d0a1a0a" ]
    nn-render html p.nns i.nns --max-thumbs 50 -o few.html
    grep -qF '300 points, 3 labels, 50 thumbnails' few.html
    # every 6th point: cells 0, 1, 2 ... at points 0, 6, 12 ...
    grep -qF '"cell":[0,-1,-1,-1,-1,-1,1,-1,-1,-1,-1,-1,2,' few.html
    [ "$(page_data few.html | grep -o '"cell":\[[^]]*\]' | tr , '\n' | grep -vc -- -1)" -eq 50 ]
    nn-mkstream -n 300 --shape 64x32x3 --values random > big.nns
    nn-render html p.nns big.nns --thumb 16 -o small.html
    grep -qF '"thumb":{"w":8,"h":16,"dw":8,"dh":16,' small.html
    nn-render html p.nns i.nns --max-thumbs 0 -o none.html
    grep -qF '"thumb":null' none.html
}

@test "html: the sprite sheets hold each point's image" {
    command -v python3 >/dev/null || skip "no python3"
    nn-mkstream -n 200 --shape 2 --values clusters > p.nns
    nn-mkstream -n 200 --shape 6x5x1 --dtype u8 --values random > i.nns
    nn-render html p.nns i.nns --max-thumbs 70 -o page.html
    nn-cat --json --data i.nns > images.json
    run python3 -c '
import base64, json, re, struct, sys, zlib
def decode(png):
    i, idat = 8, b""
    while i < len(png):
        n, = struct.unpack(">I", png[i:i + 4]); t, d = png[i + 4:i + 8], png[i + 8:i + 8 + n]
        if t == b"IHDR": w, h, depth, ct = struct.unpack(">IIBB", d[:10])
        if t == b"IDAT": idat += d
        i += 12 + n
    assert depth == 8 and ct == 0, (depth, ct)
    raw, rows, prev, p = zlib.decompress(idat), [], bytearray(w), 0
    for y in range(h):
        f, line = raw[p], bytearray(raw[p + 1:p + 1 + w]); p += 1 + w
        for x in range(w):
            a, b, c = line[x - 1] if x else 0, prev[x], prev[x - 1] if x else 0
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            line[x] = (line[x] + [0, a, b, (a + b) // 2,
                       a if pa <= pb and pa <= pc else b if pb <= pc else c][f]) & 255
        rows.append(line); prev = line
    return rows
html = open("page.html").read()
D = json.loads(re.search(r"id=\"nn-data\">(.*?)</script>", html, re.S).group(1))
T = D["thumb"]
sheets = [decode(base64.b64decode(s.split(",")[1])) for s in T["sheets"]]
want = {r["id"]: r["data"] for r in map(json.loads, open("images.json"))}
n = 0
for i, cell in enumerate(T["cell"]):
    if cell < 0: continue
    rows, k = sheets[cell // T["perSheet"]], cell % T["perSheet"]
    x0, y0 = k % T["cols"] * T["w"], k // T["cols"] * T["h"]
    got = [v for y in range(T["h"]) for v in rows[y0 + y][x0:x0 + T["w"]]]
    assert got == want[D["id"][i]], D["id"][i]
    n += 1
print(n, "thumbnails match")'
    assert_success
    assert_output "70 thumbnails match"
}

@test "html: ids, labels and groups cannot end the script; text is escaped" {
    # r0001's id becomes </script><!--"&' (16 bytes: fixstr 0xb0)
    nn-mkstream -n 4 --shape 2 --labels '</script>,b' --groups '<g&>' |
        perl -0777 -pe 's/\xa5r0001/\xb0<\/script><!--"&\x27/' > p.nns
    run nn-cat --json p.nns
    assert_line --index 1 '{"id":"</script><!--\"&'"'"'","label":"b","group":"<g&>","shape":[2]}'
    nn-render html p.nns -o page.html --title '</script><b>'
    [ "$(grep -c '</script>' page.html)" -eq 2 ]
    ! grep -q '<!--' page.html
    ! grep -q '<b>' page.html
    grep -qF '"\u003c/script\u003e\u003c!--\"\u0026'"'"'"' page.html
    grep -qF '"labels":["\u003c/script\u003e","b"]' page.html
    grep -qF '"group":["\u003cg\u0026\u003e",' page.html
    grep -qF '<title>&lt;/script&gt;&lt;b&gt;</title>' page.html
}

@test "html: bad input exits 1 naming the file and leaves no page" {
    points > p.nns
    images 300 > i.nns
    echo old > page.html
    nn-mkstream -n 5 --shape 3 > p3.nns
    run nn-render html p3.nns -o page.html
    assert_failure 1
    assert_output "nn-render: p3.nns: header: records are 3, an html map needs 2 values"
    nn-mkstream -n 5 --shape 2 --values nan > nan.nns
    run nn-render html nan.nns -o page.html
    assert_failure 1
    assert_output "nn-render: nan.nns: record 1 (r0000): value 1 is NaN"
    images 120 > few.nns
    run nn-render html p.nns few.nns -o page.html
    assert_failure 1
    assert_output "nn-render: few.nns: no image with id 'r0120' (point 121)"
    nn-mkstream -n 300 --shape 4x4x2 > two.nns
    run nn-render html p.nns two.nns -o page.html
    assert_failure 1
    assert_output "nn-render: two.nns: header: records are 4x4x2, not images (HxW, HxWx1 or HxWx3)"
    nn-mkstream -n 0 --shape 2 > empty.nns
    run nn-render html empty.nns -o page.html
    assert_failure 1
    assert_output "nn-render: empty.nns: no records to draw"
    nn-mkstream -n 5 --shape 2 --no-trailer > cut.nns
    run nn-render html cut.nns -o page.html
    assert_failure 1
    assert_output --partial "nn-render: cut.nns: "
    run nn-render html missing.nns -o page.html
    assert_failure 1
    assert_output --partial "nn-render: missing.nns: "
    [ "$(cat page.html)" = old ]
    run nn-render html p.nns i.nns -o nodir/page.html
    assert_failure 1
    [ "$(ls -A | grep -c tmp)" -eq 0 ]
}

@test "html: the page's script runs under node with a stub DOM: hover, zoom, pan, legend, search" {
    command -v node >/dev/null || skip "no node"
    points > p.nns
    images > i.nns
    nn-render html p.nns i.nns -o page.html
    page_data page.html > data.json
    page_script page.html > page.js
    cat > session.js <<'EOF'
const fs = require("fs"), vm = require("vm"), assert = require("assert");
const html = fs.readFileSync("page.html", "utf8");
const L = require("./page.js");   // the logic alone: module.exports
const D = JSON.parse(fs.readFileSync("data.json", "utf8"));
assert.strictEqual(L.decodeXY(L.b64(D.xy), D.n).xs.length, 300);
let raf = [], drawn = [];
function ctx2d(el) {
  return new Proxy({
    createImageData: (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
    drawImage: (...a) => { a.slice(1).forEach(x => assert(Number.isFinite(x))); drawn.push(el.id); },
  }, { get: (t, k) => k in t ? t[k] : (...a) => a.forEach(x => typeof x !== "number" || assert(Number.isFinite(x), k)) });
}
class El {
  constructor(id) {
    const s = new Set();
    Object.assign(this, { id, style: {}, children: [], h: {}, attrs: {}, hidden: (html.split(`id="${id}"`)[1] || "").startsWith(" hidden"),
      textContent: "", value: "", width: 300, height: 150, offsetWidth: 120, offsetHeight: 90,
      classList: { add: c => s.add(c), remove: c => s.delete(c), contains: c => s.has(c),
                   toggle: (c, f) => ((f === undefined ? !s.has(c) : f) ? s.add(c) : s.delete(c)) } });
  }
  append(...c) { this.children.push(...c); }
  setAttribute(k, v) { this.attrs[k] = String(v); }
  addEventListener(t, f) { (this.h[t] = this.h[t] || []).push(f); }
  fire(t, e) { (this.h[t] || []).forEach(f => f(Object.assign({ preventDefault() {}, button: 0, pointerId: 1 }, e))); }
  getBoundingClientRect() { return { left: 10, top: 50, width: 800, height: 600 }; }
  getContext() { return this.ctx || (this.ctx = ctx2d(this)); }
  setPointerCapture() {}
}
const els = {};
for (const m of html.matchAll(/id="([^"]+)"/g)) els[m[1]] = new El(m[1]);
els["nn-data"].textContent = fs.readFileSync("data.json", "utf8");
class Img { set src(v) { assert(v.startsWith("data:image/png;base64,")); this.complete = true; this.naturalWidth = 8; } }
const g = { atob, performance, setTimeout, Image: Img, window: { devicePixelRatio: 2, addEventListener() {} },
  document: { getElementById: id => els[id] || null, createElement: t => new El(t) },
  requestAnimationFrame: f => raf.push(f), ResizeObserver: class { observe() {} } };
vm.createContext(g);
vm.runInContext(fs.readFileSync("page.js", "utf8"), g);
const flush = () => { const q = raf; raf = []; q.forEach(f => f(0)); };
const map = els.map, tip = els.tip;
flush();
assert.strictEqual(map.width, 1600);
let at = null;
for (let y = 0; y < 600 && !at; y += 5) for (let x = 0; x < 800 && !at; x += 5) {
  map.fire("pointermove", { clientX: 10 + x, clientY: 50 + y });
  if (!tip.hidden) at = [x, y];
}
assert(at, "no tooltip");
assert(/^r\d{4}$/.test(els["tip-id"].textContent) && /^c\d$/.test(els["tip-label"].textContent));
assert.strictEqual(els["tip-group"].textContent, "g");
assert(!els["tip-thumb"].hidden && drawn.includes("tip-thumb"));
flush();
map.fire("wheel", { clientX: 300, clientY: 300, deltaY: -500, deltaMode: 0 }); flush();
map.fire("pointerdown", { clientX: 300, clientY: 300 });
for (let k = 1; k <= 5; k++) { map.fire("pointermove", { clientX: 300 + 9 * k, clientY: 300 }); flush(); }
map.fire("pointerup", { clientX: 345, clientY: 300 }); flush();
map.fire("dblclick", { clientX: 345, clientY: 300, shiftKey: true }); flush();
els.reset.fire("click", {}); flush();
const items = els.labels.children.map(li => li.children[0]);
assert.deepStrictEqual(items.map(b => b.children.map(c => c.textContent).join("|")), ["|c0|100", "|c1|100", "|c2|100"]);
els.none.fire("click", {}); flush();
assert(items.every(b => b.classList.contains("off")));
for (let y = 0; y < 600; y += 10) for (let x = 0; x < 800; x += 10) {
  map.fire("pointermove", { clientX: 10 + x, clientY: 50 + y });
  assert(tip.hidden);
}
items[1].fire("click", {}); flush();
assert(!items[1].classList.contains("off") && items[0].classList.contains("off"));
els.all.fire("click", {}); flush();
els.search.value = "R001"; els.search.fire("input", {}); flush();
assert.strictEqual(els.status.textContent, "10 matching");
els.search.fire("keydown", { key: "Escape" }); flush();
assert.strictEqual(els.status.textContent, "");
console.log("session ok");
EOF
    run node session.js
    assert_success
    assert_output "session ok"
}

@test "html: the page loads in headless Chromium without console errors" {
    [ -x /usr/bin/chromium ] || skip "no /usr/bin/chromium"
    points > p.nns
    images > i.nns
    nn-render html p.nns i.nns -o page.html
    run --separate-stderr timeout 60 /usr/bin/chromium --headless --no-sandbox --disable-gpu \
        --enable-logging=stderr --v=0 --virtual-time-budget=3000 --dump-dom "file://$PWD/page.html"
    assert_success
    # the script built the legend
    [ "$(grep -o '<li><button' <<<"$output" | wc -l)" -eq 3 ]
    ! grep -E 'CONSOLE.*(Uncaught|Error)|Refused to' <<<"$stderr"
}
