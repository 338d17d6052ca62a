// map.html and report.html of an analysis in Debian's headless chromium (playwright-core):
//   node tests/browser/map.test.mjs ANALYSIS_DIR
// ANALYSIS_DIR holds an analysis of the bundled region after grid, prioritise and report.
// Each page is opened from a localhost server and from file://. Checks: no request but the
// page itself; the map is drawn; every layer toggles off and on; a click on Falun shows the
// figures of settlements.csv; search finds Leksand; report.html prints to A4 with each map
// on a page of its own. With a second directory, SWEDISH_DIR (report.html and map.html made
// with --lang sv): every text a reader sees on either page, with every panel opened, holds no
// English word of tests/english-words.txt. Exits 1 on the first failure.
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import os from 'node:os';

const dir = path.resolve(process.argv[2] || '');
assert.ok(fs.existsSync(path.join(dir, 'map.html')), `no map.html in ${dir}`);
const svDir = process.argv[3] ? path.resolve(process.argv[3]) : null;
const english = new Set(
  fs.readFileSync(new URL('../english-words.txt', import.meta.url), 'utf8')
    .split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')),
);
// The English words in `text`, leaving out machine names: tokens with a digit, '_', '/', '.',
// ':', '@' or '=' (paths, fields, ids, numbers) and flags (--lang).
function englishWords(text) {
  const found = new Set();
  for (const raw of text.split(/\s+/)) {
    if (/[0-9_/.:@=]/.test(raw) || raw.startsWith('--')) continue;
    for (const w of raw.toLowerCase().split(/[^\p{L}]+/u)) if (english.has(w)) found.add(w);
  }
  return [...found].sort();
}

// settlements.csv, parsed (quoted fields may hold commas).
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else if (c !== '\r') field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, k) => [h, r[k]])));
}
const settlements = parseCsv(fs.readFileSync(path.join(dir, 'settlements.csv'), 'utf8'));
const byName = (n) => settlements.find((r) => r.settlement_name === n);
// The panel's formatting: shares as percentages with one decimal, counts as they are.
const expected = (k, v) => (k.startsWith('share_') ? (Number(v) * 100).toFixed(1) + ' %' : String(Number(v)));

const server = http.createServer((req, res) => {
  const file = path.join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (!file.startsWith(dir) || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function open(url) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const requests = [];
  const errors = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url, { waitUntil: 'load' });
  return { page, requests, errors };
}

function onlyItself(url, requests) {
  const others = requests.filter((u) => u !== url && !u.startsWith('data:'));
  assert.deepEqual(others, [], `${url} fetched ${others.join(', ')}`);
}

async function drawnPixels(page) {
  return page.evaluate(() => {
    let n = 0;
    for (const c of document.querySelectorAll('.leaflet-pane canvas')) {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    }
    return n;
  });
}

async function checkMap(url) {
  const { page, requests, errors } = await open(url);
  await page.waitForFunction(() => window.gapmap && window.gapmap.map);
  assert.deepEqual(errors, []);
  onlyItself(url, requests);
  const drawn = await drawnPixels(page);
  assert.ok(drawn > 20000, `the map is nearly blank: ${drawn} pixels drawn`);

  // Every layer toggles off and on from the layer list.
  const names = await page.$$eval('.leaflet-control-layers-overlays label span', (s) => s.map((e) => e.textContent.trim()));
  assert.ok(names.length >= 6, `layers: ${names}`);
  for (const name of names) {
    const has = () => page.evaluate((n) => window.gapmap.map.hasLayer(window.gapmap.byName[n]), name);
    const before = await has();
    const box = page.locator('.leaflet-control-layers-overlays label', { hasText: name }).locator('input');
    await box.click();
    assert.equal(await has(), !before, `toggling ${name}`);
    await box.click();
    assert.equal(await has(), before, `toggling ${name} back`);
  }

  // A click on Falun (the layers above it hidden) shows the figures of settlements.csv.
  await page.evaluate(() => {
    for (const id of ['gaps', 'corridors', 'projects', 'kommun', 'lan']) {
      const l = window.gapmap.layers[id];
      if (l) window.gapmap.map.removeLayer(l);
    }
  });
  const point = await page.evaluate(() => {
    const s = window.gapmap.data.find((l) => l.id === 'settlements');
    const f = s.data.features.find((x) => x.properties.settlement_name === 'Falun');
    const b = L.geoJSON(f).getBounds();
    window.gapmap.map.fitBounds(b, { animate: false });
    // A point inside the outline: the first grid point in the bounds that is inside.
    const inside = (lng, lat) => {
      const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
      let hit = false;
      for (const poly of polys) for (const ring of poly)
        for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
          const [xi, yi] = ring[i], [xj, yj] = ring[j];
          if ((yi > lat) !== (yj > lat) && lng < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) hit = !hit;
        }
      return hit;
    };
    for (let a = 0.5, step = 0.5; step > 0.01; step /= 2)
      for (let i = step; i < 1; i += step) for (let j = step; j < 1; j += step) {
        const lng = b.getWest() + i * (b.getEast() - b.getWest());
        const lat = b.getSouth() + j * (b.getNorth() - b.getSouth());
        if (inside(lng, lat)) {
          const p = window.gapmap.map.latLngToContainerPoint([lat, lng]);
          const r = document.getElementById('map').getBoundingClientRect();
          return { x: r.left + p.x, y: r.top + p.y };
        }
      }
    return null;
  });
  assert.ok(point, 'no point inside Falun');
  await page.mouse.click(point.x, point.y);
  await page.waitForSelector('#panel h2');
  assert.equal(await page.textContent('#panel h2'), 'Falun');
  const falun = byName('Falun');
  for (const k of ['premises', 'households', 'workplaces', 'fibre_passed', 'share_fibre_passed', 'households_fibre_passed', 'mobile_4g', 'unserved', 'aid_white']) {
    const shown = await page.textContent(`#panel td[data-field="${k}"]`);
    assert.equal(shown, expected(k, falun[k]), `Falun's ${k}`);
  }
  assert.equal(await page.textContent('#panel td[data-field="aid_class"]'), falun.aid_class);

  // Search by name.
  await page.fill('#search', 'Leksand');
  await page.press('#search', 'Enter');
  await page.waitForFunction(() => document.querySelector('#panel h2')?.textContent === 'Leksand');
  assert.equal(await page.textContent('#panel td[data-field="premises"]'), expected('premises', byName('Leksand').premises));

  onlyItself(url, requests);
  await page.screenshot({ path: path.join(dir, `map-${url.startsWith('file') ? 'file' : 'http'}.png`) });
  await page.close();
}

// The text of each page of `pdf` (poppler's pdftotext; pages end with a form feed).
function pdfPages(pdf) {
  const file = path.join(os.tmpdir(), `gapmap-report-${process.pid}.pdf`);
  fs.writeFileSync(file, pdf);
  try {
    const text = execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' });
    const pages = text.split('\f');
    if (pages.length && pages[pages.length - 1].trim() === '') pages.pop();
    return pages;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

const flat = (t) => t.replace(/\s+/g, ' ').trim();
const firstLine = (t) => t.split('\n').map((l) => l.trim()).find((l) => l) || '';

// report.html printed to A4 (the page's own print CSS): page 1 is the header and headline
// figures; each map then has a page of its own, title first and caption on the same page;
// then the tables, the first table's title heading the page after the last map, every table
// title with some of its table after it on its page, no page blank. So the page count is
// 1 + maps + the pages the tables take. Returns the page count.
async function checkReport(url) {
  const { page, requests, errors } = await open(url);
  assert.deepEqual(errors, []);
  onlyItself(url, requests);
  const title = flat(await page.textContent('header h1'));
  const maps = await page.$$eval('figure', (fs) => fs.map((f) => ({
    title: f.querySelector('h2').textContent, caption: f.querySelector('figcaption').textContent,
  })));
  const tables = await page.$$eval('main > h2', (hs) => hs.map((h) => h.textContent));
  const pages = pdfPages(await page.pdf({ format: 'A4' }));
  assert.ok(maps.length >= 2 && tables.length >= 3, `${maps.length} maps, ${tables.length} tables`);
  pages.forEach((p, i) => assert.ok(p.trim(), `page ${i + 1} of ${pages.length} is blank`));
  assert.equal(flat(firstLine(pages[0])), title, 'page 1 begins with the title');
  for (const m of maps) assert.ok(!flat(pages[0]).includes(flat(m.title)), `map '${m.title}' on page 1`);
  maps.forEach((m, k) => {
    const p = pages[1 + k];
    assert.equal(flat(firstLine(p)), flat(m.title), `page ${k + 2} begins with map '${m.title}'`);
    // The caption's first words (pdftotext may break a long line differently).
    assert.ok(flat(p).includes(flat(m.caption).slice(0, 40)), `the caption of '${m.title}' is on its page`);
  });
  assert.ok(pages.length > 1 + maps.length, 'no page of tables');
  assert.equal(flat(firstLine(pages[1 + maps.length])), flat(tables[0]), 'the tables begin on the page after the maps');
  // Every table title is followed by more of its section on the same page (not left alone
  // at the foot of a page).
  const rest = pages.slice(1 + maps.length).map(flat);
  for (const t of tables) {
    const k = rest.findIndex((p) => p.includes(flat(t)));
    assert.ok(k >= 0, `table '${t}' is printed`);
    const after = rest[k].slice(rest[k].indexOf(flat(t)) + flat(t).length).trim();
    assert.ok(after.length > 0, `table '${t}' is alone at the foot of page ${k + 2 + maps.length}`);
  }
  await page.close();
  return pages.length;
}

// Every text of a page a reader can see: the body's text (machine names set as <code> left
// out), the page title, placeholders, tooltips and SVG titles; on map.html also the panel of
// the first feature of every layer.
async function readerText(page) {
  return page.evaluate(() => {
    const body = document.body.cloneNode(true);
    for (const e of body.querySelectorAll('code, script, style')) e.remove();
    // innerText of a detached node is its textContent; keep the block breaks.
    for (const e of body.querySelectorAll('p, div, td, th, h1, h2, h3, li, label, span, figcaption, option'))
      e.append(' ');
    const parts = [document.title, body.textContent];
    for (const e of document.querySelectorAll('[placeholder]')) parts.push(e.getAttribute('placeholder'));
    for (const e of document.querySelectorAll('[title]')) parts.push(e.getAttribute('title'));
    for (const e of document.querySelectorAll('[aria-label]')) parts.push(e.getAttribute('aria-label'));
    for (const e of document.querySelectorAll('svg title')) parts.push(e.textContent);
    if (window.gapmap) {
      for (const layer of window.gapmap.data) {
        const f = layer.data.features[0];
        if (!f) continue;
        window.gapmap.show(layer, f.properties || {});
        parts.push(document.getElementById('panel').innerText);
      }
    }
    return parts.join('\n');
  });
}

async function checkSwedish(url, isMap) {
  const { page, errors } = await open(url);
  if (isMap) await page.waitForFunction(() => window.gapmap && window.gapmap.map);
  assert.deepEqual(errors, []);
  assert.equal(await page.getAttribute('html', 'lang'), 'sv', `${url}: <html lang>`);
  const text = await readerText(page);
  const left = englishWords(text);
  assert.deepEqual(left, [], `${url} still has English: ${left.join(', ')}`);
  const words = text.split(/\s+/).filter(Boolean).length;
  await page.close();
  return words;
}

try {
  if (svDir) {
    // The check can fail: the English pages are full of English words.
    const { page } = await open(`file://${dir}/report.html`);
    const en = englishWords(await readerText(page));
    await page.close();
    assert.ok(en.length > 30, `the English report shows only ${en.length} English words: the check is blind`);
    for (const name of ['report.html', 'map.html']) {
      const words = await checkSwedish(`file://${svDir}/${name}`, name === 'map.html');
      console.log(`${svDir}/${name}: Swedish, ${words} words read, no English word left`);
    }
    const pages = await checkReport(`file://${svDir}/report.html`);
    console.log(`${svDir}/report.html: ${pages} A4 pages, laid out as the English one`);
  }
  for (const base of [`http://127.0.0.1:${port}`, `file://${dir}`]) {
    await checkMap(`${base}/map.html`);
    const pages = await checkReport(`${base}/report.html`);
    console.log(`${base}: map.html and report.html ok (report: ${pages} A4 pages)`);
  }
} finally {
  await browser.close();
  server.close();
}
