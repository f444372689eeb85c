// The driver-major projects of vitest.workspace.ts swap a driver for another major through an
// npm alias; this checks the swap took, so a green run there really ran on that major.
import { expect, it } from 'vitest';

const EXPECTED_IOREDIS_MAJOR: Record<string, number> = { ioredis6: 6 };

it('tests load the ioredis major their project names', async () => {
  const { default: manifest } = (await import('ioredis/package.json', { with: { type: 'json' } })) as { default: { version: string } };
  const expected = EXPECTED_IOREDIS_MAJOR[process.env['IDEMKIT_TEST_DRIVER'] ?? ''] ?? 5;
  expect(Number(manifest.version.split('.')[0])).toBe(expected);
});
