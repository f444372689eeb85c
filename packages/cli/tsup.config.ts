import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// The library (ESM + CJS with types) and the `idemkit` bin (one ESM file with a shebang). tsup
// builds the two configs side by side, so neither cleans: the build script empties dist first.
export default defineConfig([
  packageBuild({ index: 'src/index.ts' }, { clean: false }),
  packageBuild({ bin: 'src/bin.ts' }, { format: ['esm'], dts: false, clean: false, banner: { js: '#!/usr/bin/env node' } }),
]);
