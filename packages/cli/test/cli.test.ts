import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../src/cli/main.js';
import { genesysCapture } from './support/captures.js';
import { jsonl, tempDir } from './support/files.js';

interface Captured extends CliIo {
  out: () => string;
  err: () => string;
}

function io(stderr: { isTTY?: boolean; columns?: number } = {}): Captured {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { ...stderr, write: (text: string) => (err += text) },
    out: () => out,
    err: () => err,
  };
}

const dir = tempDir();
const capture = genesysCapture({ seed: 7, entities: 30 });
let file: string;
beforeAll(async () => {
  file = await dir.write('capture.jsonl', jsonl(capture.events));
});

describe('idemkit analyze', () => {
  it('prints the table, the warnings, the gap histogram with the window, and the IDEMKIT_STRATEGY to deploy', async () => {
    const cli = io();
    expect(await main(['analyze', file], cli)).toBe(0);
    const text = cli.out();
    expect(text).toMatch(/^idemkit analyze: [\d,]+ deliveries from 1 file/);
    expect(text).toContain('strategy');
    expect(text).toContain('false supp.');
    expect(text).toMatch(/Suspected false suppressions[^\n]*\n {2}eventId\(detail\.eventBody\.conversationId\): \d+/);
    expect(text).toMatch(/Suspected missed duplicates[^\n]*\n {2}eventId\(id\): \d+/);
    expect(text).toMatch(/Gaps between occurrences of the same genesysCloud key/);
    expect(text).toMatch(/─┼─ suggested windowMs \d+/);
    expect(text).toMatch(/Recommendation: genesysCloud\([^)]*\) — no warnings/);
    expect(text).toMatch(/ {2}IDEMKIT_STRATEGY='\{"preset":"genesysCloud","windowMs":\d+\}'\n$/);
    expect(text).toMatch(/ ★ {2}genesysCloud/);
  });

  it('--json prints the whole report for scripts, and nothing else', async () => {
    const cli = io();
    expect(await main(['analyze', file, '--json'], cli)).toBe(0);
    const report = JSON.parse(cli.out()) as { recommendation: { env: string }; strategies: unknown[]; gaps: unknown[] };
    expect(JSON.parse(report.recommendation.env)).toMatchObject({ preset: 'genesysCloud' });
    expect(report.strategies.length).toBeGreaterThan(5);
    expect(cli.err()).toBe('');
  });

  it('draws a progress bar (events/s, bytes read) on a terminal, and clears it', async () => {
    const cli = io({ isTTY: true, columns: 120 });
    expect(await main(['analyze', file, '--json'], cli)).toBe(0);
    const err = cli.err();
    expect(err).toMatch(/\rmeasuring gaps [█░]+ \d+% · [\d,]+ events · [\d,]+ events\/s · [\d.]+ KB \/ [\d.]+ KB/);
    expect(err).toMatch(/\rrunning strategies /);
    expect(err.endsWith('\r\x1b[K')).toBe(true);
    expect(() => JSON.parse(cli.out())).not.toThrow();
  });

  it('draws none when stderr is piped, or with --no-progress', async () => {
    const piped = io({ isTTY: false });
    await main(['analyze', file, '--json'], piped);
    expect(piped.err()).toBe('');
    const quiet = io({ isTTY: true });
    await main(['analyze', file, '--json', '--no-progress'], quiet);
    expect(quiet.err()).toBe('');
  });

  it('--html writes a self-contained page: inline SVG charts, no scripts, no external resources', async () => {
    const cli = io();
    const page = dir.path('report.html');
    expect(await main(['analyze', file, '--html', page], cli)).toBe(0);
    const html = await readFile(page, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg class="chart"/g)!.length).toBeGreaterThanOrEqual(2);
    expect(html).not.toMatch(/<script|<link|<img|\ssrc=|\shref=|@import|url\(/i);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:\/\//);
    expect(cli.err()).toContain(`HTML report written to ${page}`);
  });

  it('counts malformed lines and reports their line numbers, without stopping', async () => {
    const lines = jsonl(capture.events.slice(0, 40)).split('\n');
    lines.splice(3, 0, '{"id": "broken"');
    lines.splice(10, 0, 'garbage');
    const bad = await dir.write('bad.jsonl', lines.join('\n'));
    const cli = io();
    expect(await main(['analyze', bad], cli)).toBe(0);
    expect(cli.out()).toContain('malformed records: 2 (skipped)');
    expect(cli.out()).toContain(`${bad}:4 the line is not valid JSON`);
    expect(cli.out()).toContain(`${bad}:11 the line is not valid JSON`);
    const json = io();
    await main(['analyze', bad, '--json'], json);
    const report = JSON.parse(json.out()) as { inputs: { deliveries: number; malformedExamples: { line: number }[] } };
    expect(report.inputs.deliveries).toBe(40);
    expect(report.inputs.malformedExamples.map((m) => m.line)).toEqual([4, 11]);
  });
});

describe('arguments', () => {
  const fails = async (argv: string[]) => {
    const cli = io();
    const code = await main(argv, cli);
    return { code, err: cli.err() };
  };

  it('bad arguments exit 2 and name the option', async () => {
    expect(await fails(['analyze'])).toEqual({ code: 2, err: expect.stringContaining('idemkit: <file>: is missing') });
    expect(await fails(['analyze', 'x.jsonl', '--window-ms', 'soon'])).toEqual({ code: 2, err: expect.stringContaining('--window-ms: must be a whole number of at least 1, got "soon"') });
    expect(await fails(['analyze', 'x.jsonl', '--windowMs', '5'])).toEqual({ code: 2, err: expect.stringContaining("idemkit: --windowMs: Unknown option '--windowMs'") });
    expect(await fails(['analyze', 'x.jsonl', '--strategy', '{"strategy":"evntId"}'])).toEqual({
      code: 2,
      err: expect.stringContaining('--strategy #1 (strategy): unknown strategy "evntId"'),
    });
    expect(await fails(['analyze', 'x.jsonl', '--time', 'detail..time'])).toEqual({ code: 2, err: expect.stringContaining('--time: ') });
    expect(await fails(['analyse', 'x.jsonl'])).toEqual({ code: 2, err: expect.stringContaining('unknown command "analyse"') });
    expect(await fails(['analyze', 'x.jsonl', '--no-discover'])).toEqual({ code: 2, err: expect.stringContaining('--no-discover') });
  });

  it('an unreadable file exits 1 with the system error, and so does an --html path that cannot be written', async () => {
    expect(await fails(['analyze', dir.path('missing.jsonl')])).toEqual({ code: 1, err: expect.stringMatching(/idemkit: ENOENT: no such file/) });
    expect(await fails(['analyze', file, '--html', dir.path('no/such/dir/report.html')])).toEqual({ code: 1, err: expect.stringMatching(/idemkit: --html: ENOENT/) });
  });

  it('an empty capture is no error: there is just nothing to recommend', async () => {
    const cli = io();
    expect(await main(['analyze', await dir.write('empty.jsonl', '')], cli)).toBe(0);
    expect(cli.out()).toMatch(/^idemkit analyze: 0 deliveries/);
    expect(cli.out()).toContain('No recommendation');
  });

  it('no command, help or --help prints the usage', async () => {
    for (const argv of [[], ['help'], ['--help'], ['analyze', '-h']]) {
      const cli = io();
      expect(await main(argv, cli)).toBe(0);
      expect(cli.out()).toMatch(/^Usage: idemkit analyze <file…> \[options\]/);
    }
  });
});

describe('the idemkit bin', () => {
  const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('runs analyze, piped: the JSON report on stdout, no progress bar, exit 0; a bad option exits 2', async () => {
    const [analyzed, bad, version] = await Promise.all([run(['analyze', file, '--json']), run(['analyze', file, '--sample', '0']), run(['--version'])]);
    expect(analyzed.code).toBe(0);
    expect(JSON.parse(analyzed.stdout)).toHaveProperty('recommendation.label');
    expect(analyzed.stderr).toBe('');
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining('--sample') });
    expect(version).toMatchObject({ code: 0, stdout: '0.0.0\n' });
  });
});
