import type { Redis } from 'ioredis';
import type { StoreKind } from '../contenders/types.js';
import type { Queryable } from '../lib/pg.js';
import type { CuttableProxy } from './tcp-proxy.js';

/** Cuts the workers' store connections (and only theirs); returns how many were cut. */
export type ConnectionCutter = () => Promise<number>;

/**
 * Redis: `CLIENT KILL ID` for each connection whose name (CLIENT SETNAME, set by ioredis'
 * `connectionName`) starts with the run's prefix. `CLIENT KILL TYPE normal` would hit every
 * client of the shared server, so connections are picked one by one from `CLIENT LIST`.
 */
export function redisCutter(admin: Redis, namePrefix: string): ConnectionCutter {
  return async () => {
    const list = (await admin.client('LIST')) as string;
    const ids = list
      .split('\n')
      .map((line) => ({ id: /\bid=(\d+)/.exec(line)?.[1], name: /\bname=(\S*)/.exec(line)?.[1] }))
      .filter((client) => client.id !== undefined && client.name?.startsWith(namePrefix));
    let cut = 0;
    for (const { id } of ids) cut += Number(await admin.client('KILL', 'ID', id!));
    return cut;
  };
}

/** Postgres: `pg_terminate_backend` on the backends whose application_name marks them as the workers' store pools. */
export function postgresCutter(admin: Queryable, namePrefix: string): ConnectionCutter {
  return async () => {
    const { rows } = await admin.query<{ cut: boolean }>(
      `SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE application_name LIKE $1 AND pid <> pg_backend_pid()`,
      [`${namePrefix.replace(/[_%\\]/g, '\\$&')}%`],
    );
    return rows.filter((row) => row.cut).length;
  };
}

/** DynamoDB: resets every connection through the proxy the workers use. */
export function dynamodbCutter(proxy: CuttableProxy): ConnectionCutter {
  return async () => proxy.cutAll();
}

/** The cutter for a store. */
export function cutterFor(
  store: StoreKind,
  tools: { redis?: Redis; postgres?: Queryable; proxy?: CuttableProxy },
  namePrefix: string,
): ConnectionCutter {
  if (store === 'redis') return redisCutter(tools.redis!, namePrefix);
  if (store === 'postgres') return postgresCutter(tools.postgres!, namePrefix);
  return dynamodbCutter(tools.proxy!);
}
