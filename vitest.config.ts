import { defineConfig } from 'vitest/config';
import projects from './vitest.workspace.js';

// The AWS SDK warns once per process that its releases after January 2027 need Node 22; this
// suite runs on Node 20 on purpose (the oldest runtime idemkit supports), so the warning is noise
// here. Set in this process, so global setups, test workers and the processes they start inherit
// it. This is the SDK's documented switch; set the variable yourself to see the warning.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

// Projects are listed in vitest.workspace.ts; they are passed as `test.projects`, so vitest does
// not also read that file as a (deprecated) workspace file. This file sets run-wide options.
export default defineConfig({
  test: {
    projects,
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest-report.json' },
  },
});
