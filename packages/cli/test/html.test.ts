import { existsSync } from 'node:fs';
import { PNG } from 'pngjs';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analysis/analyze.js';
import type { AnalysisReport } from '../src/analysis/types.js';
import { renderHtml } from '../src/report/html.js';
import { COLORS } from '../src/report/svg.js';
import { genesysCapture } from './support/captures.js';
import { jsonl, tempDir } from './support/files.js';

// Debian's chromium: browser downloads are not possible here, and the test must not be skipped.
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const dir = tempDir();
let browser: Browser;
let report: AnalysisReport;
let page: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: install Debian's package with \`apt-get update && apt-get install -y chromium\` (.ci/run does this), then rerun`);
  }
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  const capture = genesysCapture({ seed: 19, entities: 40 });
  report = await analyze({ files: [await dir.write('capture.jsonl', jsonl(capture.events))] });
  page = await dir.write('report.html', renderHtml(report));
});

afterAll(async () => {
  await browser?.close();
});

function rgb(hex: string): [number, number, number] {
  return [1, 3, 5].map((at) => Number.parseInt(hex.slice(at, at + 2), 16)) as [number, number, number];
}

/** Pixels of a PNG screenshot close to each colour, and those that are not background white. */
function countColors(png: Buffer, colors: Record<string, string>): { inked: number; total: number; byColor: Record<string, number> } {
  const image = PNG.sync.read(png);
  const targets = Object.entries(colors).map(([name, hex]) => [name, rgb(hex)] as const);
  const byColor = Object.fromEntries(targets.map(([name]) => [name, 0]));
  let inked = 0;
  for (let i = 0; i < image.data.length; i += 4) {
    const [r, g, b] = [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
    if (r < 245 || g < 245 || b < 245) inked++;
    for (const [name, [tr, tg, tb]] of targets) {
      if (Math.abs(r - tr) + Math.abs(g - tg) + Math.abs(b - tb) < 30) byColor[name]!++;
    }
  }
  return { inked, total: image.width * image.height, byColor };
}

describe('the HTML report in headless Chromium', () => {
  it('loads with no request leaving the page and no console error', async () => {
    const tab = await browser.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    tab.on('request', (request) => requests.push(request.url()));
    tab.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    tab.on('pageerror', (error) => errors.push(String(error)));
    await tab.goto(`file://${page}`, { waitUntil: 'load' });
    expect(requests).toEqual([`file://${page}`]);
    expect(errors).toEqual([]);
    expect(await tab.title()).toBe('idemkit analyze report');
    await tab.close();
  });

  it('renders every chart: the screenshot of each is not blank, and shows its bars and the window marker', async () => {
    const tab = await browser.newPage();
    await tab.setViewport({ width: 1200, height: 900 });
    await tab.goto(`file://${page}`, { waitUntil: 'load' });
    const charts = await tab.$$('svg.chart');
    expect(charts.length).toBe(1 + report.gaps.length);
    for (const chart of charts) {
      const kind = await chart.evaluate((element) => element.getAttribute('data-chart'));
      const box = (await chart.boundingBox())!;
      expect(box.width).toBeGreaterThan(500);
      expect(box.height).toBeGreaterThan(150);
      const shot = Buffer.from(await chart.screenshot({ type: 'png' }));
      if (kind === 'gaps') {
        const { inked, total, byColor } = countColors(shot, { reEmit: COLORS.reEmit, repeat: COLORS.repeat, marker: COLORS.marker });
        expect(inked / total).toBeGreaterThan(0.03);
        // Bars on both sides of the window, and the dashed marker between them.
        expect(byColor['reEmit']).toBeGreaterThan(200);
        expect(byColor['repeat']).toBeGreaterThan(200);
        expect(byColor['marker']).toBeGreaterThan(100);
      } else {
        const { inked, total, byColor } = countColors(shot, { runs: COLORS.runs, duplicates: COLORS.duplicates, warnings: COLORS.warnings, logical: COLORS.logical });
        expect(inked / total).toBeGreaterThan(0.03);
        for (const color of ['runs', 'duplicates', 'warnings', 'logical']) expect(byColor[color], color).toBeGreaterThan(50);
      }
    }
    await tab.close();
  });

  it('puts the marker between the re-emit bars and the repeat bars', async () => {
    const tab = await browser.newPage();
    await tab.goto(`file://${page}`, { waitUntil: 'load' });
    const layout = await tab.$eval('svg.chart[data-chart="gaps"]', (svg) => {
      const marker = svg.querySelector('line.marker')!.getBoundingClientRect();
      const bars = Array.from(svg.querySelectorAll('rect.bar')).map((bar) => ({ x: bar.getBoundingClientRect().x, fill: bar.getAttribute('fill') }));
      return { marker: marker.x, bars };
    });
    const left = layout.bars.filter((bar) => bar.fill === COLORS.reEmit);
    const right = layout.bars.filter((bar) => bar.fill === COLORS.repeat);
    expect(left.length).toBeGreaterThan(0);
    expect(right.length).toBeGreaterThan(0);
    expect(Math.max(...left.map((bar) => bar.x))).toBeLessThan(layout.marker);
    expect(Math.min(...right.map((bar) => bar.x))).toBeGreaterThan(layout.marker);
    await tab.close();
  });
});
