// Checks the packages as npm users get them: packs each with `pnpm pack` (after `pnpm build`),
// checks what each tarball holds, then installs the tarballs with plain npm in a scratch project
// outside the repository, the way the README says, and uses them there.
//
//   node scripts/check-tarballs.mjs        (CI runs it; needs the build, Redis, and the npm registry)
//
// Prints one line per check and exits non-zero on the first failure, saying what is wrong.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'idemkit-tarballs-'));
const packs = join(scratch, 'packs');
const project = join(scratch, 'app');
const keep = process.argv.includes('--keep');

const run = (command, args, cwd, env = {}) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
const npm = (args, env) => run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], project, env);
const ok = (message) => console.log(`ok   ${message}`);
function fail(message, detail) {
  console.error(`FAIL ${message}${detail === undefined ? '' : `\n${detail}`}`);
  console.error(`(scratch files kept in ${scratch})`);
  process.exit(1);
}
function attempt(what, body) {
  try {
    return body();
  } catch (error) {
    fail(what, [error.stdout, error.stderr, error.message].filter(Boolean).join('\n').trim());
  }
}

// --- pack --------------------------------------------------------------------------------------
const packageDirs = readdirSync(join(root, 'packages'))
  .map((name) => join(root, 'packages', name))
  .filter((dir) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return manifest.private !== true;
  });
mkdirSync(packs, { recursive: true });
const tarballs = {};
for (const dir of packageDirs) {
  attempt(`pnpm pack in ${dir}`, () => run('npx', ['--yes', 'pnpm@10', 'pack', '--pack-destination', packs], dir));
}
for (const file of readdirSync(packs)) {
  const listing = run('tar', ['-tzf', join(packs, file)], packs).trim().split('\n').map((entry) => entry.replace(/^package\//, ''));
  const manifest = JSON.parse(run('tar', ['-xzOf', join(packs, file), 'package/package.json'], packs));
  tarballs[manifest.name] = { file: join(packs, file), listing: new Set(listing), manifest };
}
ok(`packed ${Object.keys(tarballs).sort().join(', ')}`);

// --- what each tarball holds -------------------------------------------------------------------
for (const [name, { file, listing, manifest }] of Object.entries(tarballs)) {
  // A package still at 0.0.0 has had no release yet (its changesets are pending): its README and
  // CHANGELOG come with its first version; everything else is checked already.
  const released = manifest.version !== '0.0.0';
  if (!released) console.log(`note ${name} is not released yet (0.0.0): README and CHANGELOG not required`);
  for (const needed of released ? ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json'] : ['LICENSE', 'package.json']) {
    if (!listing.has(needed)) fail(`${name}: the tarball has no ${needed}`);
  }
  if (!/^\d+\.\d+\.\d+/.test(manifest.version)) fail(`${name}: version ${manifest.version} is not a release`);
  if (typeof manifest.repository?.url !== 'string' || typeof manifest.repository?.directory !== 'string') fail(`${name}: no repository url and directory`);
  if (typeof manifest.homepage !== 'string' || typeof manifest.bugs?.url !== 'string') fail(`${name}: no homepage or bugs url`);
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dependency, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) fail(`${name}: ${field}.${dependency} is still "${range}"`);
    }
  }
  // Every file the exports map names is in the tarball.
  const targets = [];
  const collect = (value) => {
    if (typeof value === 'string') targets.push(value);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(collect);
  };
  collect(manifest.exports);
  for (const target of [...targets, manifest.main, manifest.module, manifest.types].filter(Boolean)) {
    if (!listing.has(normalize(target))) fail(`${name}: exports name ${target}, which the tarball lacks`);
  }
  // Every bundle's source map is in the tarball, and every source it maps to has its content.
  for (const entry of listing) {
    if (!/\.(c|m)?js$/.test(entry)) continue;
    const code = run('tar', ['-xzOf', file, `package/${entry}`], packs);
    const reference = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(code)?.[1];
    if (reference === undefined) fail(`${name}: ${entry} has no sourceMappingURL`);
    const mapPath = normalize(join(dirname(entry), reference));
    if (!listing.has(mapPath)) fail(`${name}: ${entry} points to ${mapPath}, which the tarball lacks`);
    const map = JSON.parse(run('tar', ['-xzOf', file, `package/${mapPath}`], packs));
    map.sources.forEach((source, index) => {
      const shipped = listing.has(normalize(join(dirname(mapPath), source)));
      if (!shipped && typeof map.sourcesContent?.[index] !== 'string') fail(`${name}: ${mapPath} maps to ${source}, neither shipped nor embedded`);
    });
  }
  ok(`${name}@${manifest.version}: ${released ? 'LICENSE, README, CHANGELOG' : 'LICENSE'}, repository/homepage/bugs, ${targets.length} export targets, source maps that resolve`);
}
if (!tarballs['@idemkit/postgres']?.listing.has('sql/schema.sql') || tarballs['@idemkit/postgres'].manifest.exports['./sql/schema.sql'] === undefined) {
  fail('@idemkit/postgres does not ship and export sql/schema.sql');
}

// --- install as the README says, with plain npm, outside the workspace -------------------------
const tarball = (name) => tarballs[name].file;
mkdirSync(project, { recursive: true });
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch-lambda', version: '1.0.0', private: true, type: 'module' }, null, 2));
// The README's line is `npm install @idemkit/eventbridge @idemkit/redis ioredis`; the packages come
// from their tarballs (core with them, as the registry would bring it), ioredis from the registry.
attempt('npm install of the README line', () => npm(['install', tarball('@idemkit/core'), tarball('@idemkit/eventbridge'), tarball('@idemkit/redis'), 'ioredis']));
const ioredis = JSON.parse(readFileSync(join(project, 'node_modules/ioredis/package.json'), 'utf8')).version;
attempt('npm ls after the README line', () => npm(['ls', '--all']));
ok(`npm install @idemkit/eventbridge @idemkit/redis ioredis (ioredis ${ioredis}): npm ls is clean`);
attempt('a later npm install', () =>
  npm(['install', tarball('@idemkit/postgres'), tarball('@idemkit/dynamodb'), 'pg', '@aws-sdk/client-dynamodb', 'fast-check@4']),
);
attempt('npm ls after a later install', () => npm(['ls', '--all']));
ok('a later npm install (the other stores, their drivers, and fast-check for @idemkit/core/testing) succeeds, and npm ls stays clean');

// --- use them there: every export, ESM and CommonJS; the SQL; a bundle --------------------------
const probe = `
  import { createRequire } from 'node:module';
  import { readFileSync } from 'node:fs';
  const require = createRequire(import.meta.url);
  const expected = ${JSON.stringify({
    '@idemkit/core': 'IdempotencyEngine',
    '@idemkit/core/testing': 'runStoreConformance',
    '@idemkit/redis': 'RedisStore',
    '@idemkit/postgres': 'PostgresStore',
    '@idemkit/dynamodb': 'DynamoDBStore',
    '@idemkit/eventbridge': 'makeIdempotent',
    '@idemkit/eventbridge/redis': 'redisLoader',
    '@idemkit/eventbridge/postgres': 'postgresLoader',
    '@idemkit/eventbridge/dynamodb': 'dynamodbLoader',
  })};
  for (const [specifier, name] of Object.entries(expected)) {
    if (typeof (await import(specifier))[name] !== 'function') throw new Error(specifier + ' (ESM) lacks ' + name);
    if (typeof require(specifier)[name] !== 'function') throw new Error(specifier + ' (CJS) lacks ' + name);
  }
  const ddl = readFileSync(require.resolve('@idemkit/postgres/sql/schema.sql'), 'utf8');
  if (!ddl.includes('CREATE TABLE')) throw new Error('@idemkit/postgres/sql/schema.sql holds no CREATE TABLE');
  console.log(Object.keys(expected).length);
`;
const loaded = attempt('loading every export', () => run(process.execPath, ['--input-type=module', '-e', probe], project).trim());
ok(`${loaded} entry points load as ESM and as CommonJS; @idemkit/postgres/sql/schema.sql resolves`);

// A Redis-only handler bundled from the installed packages (every store is installed now): the
// bundle holds Redis only, and runs a duplicate delivery once against the local Redis.
writeFileSync(
  join(project, 'handler.mjs'),
  `import { makeIdempotent } from '@idemkit/eventbridge';
import { redisLoader } from '@idemkit/eventbridge/redis';
let runs = 0;
export const handler = makeIdempotent(async (event) => ({ run: ++runs, id: event.id }), { loader: redisLoader, name: 'tarballCheck' });
`,
);
const { build } = await import(join(root, 'node_modules/esbuild/lib/main.js'));
const bundleDir = join(scratch, 'bundle');
const built = await build({
    entryPoints: [join(project, 'handler.mjs')],
    outfile: join(bundleDir, 'index.mjs'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'error',
  }).catch((error) => fail('esbuild bundle of a Redis-only handler', error.message));
const inputs = Object.keys(built.metafile.inputs);
const foreign = inputs.filter((input) => /node_modules\/(@idemkit\/(postgres|dynamodb)|pg|pg-[a-z]+|@aws-sdk\/client-dynamodb)\//.test(input));
if (foreign.length > 0) fail('a Redis-only bundle holds other stores', foreign.slice(0, 10).join('\n'));
const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
redisUrl.searchParams.set('prefix', `idemkit-tarball-check-${process.pid}`);
const invoke = `
  const { handler } = await import(${JSON.stringify(join(bundleDir, 'index.mjs'))});
  const context = { functionName: 'tarball-check', getRemainingTimeInMillis: () => 30000 };
  const event = { id: 'e-' + Date.now() + '-' + Math.random(), detail: {} };
  console.log(JSON.stringify([await handler(event, context), await handler(event, context)]));
`;
const results = attempt('running the bundle', () =>
  run(process.execPath, ['--input-type=module', '-e', invoke], bundleDir, {
    IDEMKIT_STORE: redisUrl.toString(),
    IDEMKIT_LOG_LEVEL: 'warn',
    IDEMKIT_RETENTION_MS: '60000',
  }),
);
const [first, second] = JSON.parse(results.trim().split('\n').at(-1));
if (first.run !== 1 || JSON.stringify(second) !== JSON.stringify(first)) fail('the bundled handler ran a duplicate again', results);
ok(`a Redis-only ESM bundle of the installed packages (${inputs.length} files) holds no other store, and ran a duplicate once`);

if (!keep) rmSync(scratch, { recursive: true, force: true });
console.log('tarballs: all checks passed');
