import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// One entry per store loader, so a bundle that imports one of them holds that store only.
export default defineConfig(
  packageBuild({
    index: 'src/index.ts',
    redis: 'src/loaders/redis.ts',
    postgres: 'src/loaders/postgres.ts',
    dynamodb: 'src/loaders/dynamodb.ts',
  }),
);
