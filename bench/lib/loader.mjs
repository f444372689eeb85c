// `node --import ./bench/lib/loader.mjs bench/run.ts`: tsx for the bench's own TypeScript, and
// idemkit as users install it — the built packages, untransformed (published-as-is.mjs).
import 'tsx';
import { register } from 'node:module';

// Registered after tsx, so these hooks run first and hand everything else on to tsx.
register('./published-as-is.mjs', import.meta.url);
