import { defineConfig } from 'vitest/config';

// Projects live in vitest.workspace.ts; this file only sets run-wide options.
export default defineConfig({
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest-report.json' },
  },
});
