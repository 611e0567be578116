#!/usr/bin/env bats
# nn-render html in a real browser: Debian's Chromium driven by playwright-core
# (tests/browser/check-page.js): no console errors, no network requests, a hover shows the
# point's id, label, group and thumbnail, zoom and pan keep points under the pointer, a legend
# click hides a label's dots, a search rings its match. Skipped without /usr/bin/chromium
# (Debian package chromium), node, or tests/browser/node_modules (`npm ci` in tests/browser,
# as .ci/run does).

load helper

setup() {
    [ -x "${CHROMIUM:-/usr/bin/chromium}" ] || skip "no Chromium (apt-get install chromium)"
    command -v node >/dev/null || skip "no node (apt-get install nodejs)"
    [ -d "$ROOT/tests/browser/node_modules/playwright-core" ] ||
        skip "no playwright-core (run: cd tests/browser && npm ci)"
    cd "$BATS_TEST_TMPDIR" || exit 1
}

check_page() { timeout 120 node "$ROOT/tests/browser/check-page.js" "$@"; }

@test "browser: a page with thumbnails: hover, zoom, pan, legend, search; no errors, no network" {
    nn-mkstream -n 300 --shape 2 --values clusters --clusters 3 > p.nns
    nn-mkstream -n 300 --shape 8x8x1 --dtype u8 --values random > i.nns
    nn-render html p.nns i.nns -o page.html
    run check_page page.html
    echo "$output"
    assert_success
    assert_line "ok - hovering point 0 shows its id r0000, label c0 and group g (shown: r0000)"
    assert_line "ok - the tooltip draws r0000's thumbnail"
    assert_line --regexp "^ok - after a click on c1 in the legend, its colour is gone \([0-9]+ -> 0 pixels\)$"
    assert_line "ok - searching r0100 reports \"1 matching\""
    assert_line "ok - no network requests"
    assert_line "ok - no console errors or warnings"
}

@test "browser: a page without thumbnails; a random cloud with colour thumbnails, some left out" {
    nn-mkstream -n 500 --shape 2 --values clusters --clusters 4 > p.nns
    nn-render html p.nns -o plain.html
    run check_page plain.html
    echo "$output"
    assert_success
    refute_line --partial "draws"
    nn-mkstream -n 500 --shape 2 --values random --labels 'x,y' > q.nns
    nn-mkstream -n 500 --shape 5x7x3 --values random > rgb.nns
    nn-render html q.nns rgb.nns --max-thumbs 100 -o some.html
    run check_page some.html
    echo "$output"
    assert_success
    assert_line "ok - hovering point 0 shows its id r0000, label x and group g (shown: r0000)"
    assert_line "ok - the tooltip draws r0000's thumbnail"
    assert_line "ok - the tooltip has no thumbnail for r0001 (none embedded)"
}

@test "browser: the checks fail on a page that reaches for the network or throws" {
    nn-mkstream -n 50 --shape 2 --values clusters --clusters 2 > p.nns
    nn-render html p.nns -o page.html
    sed 's|<script>$|<script>fetch("http://127.0.0.1:9/x").catch(function () {});|' page.html > net.html
    ! cmp -s page.html net.html
    run check_page net.html
    assert_failure
    assert_line --regexp '^FAILED: no (network requests|console errors).*127\.0\.0\.1'
    sed 's|<script>$|<script>window.addEventListener("load", function () { null.x; });|' page.html > throw.html
    run check_page throw.html
    assert_failure
    assert_line --regexp '^FAILED: no console errors or warnings: uncaught: '
}
