import {
  ConfigError,
  orderingFromConfig,
  type DedupKeyStrategy,
  type OrderingConfig,
  type OversizePolicy,
  type PayloadMismatchPolicy,
} from '@idemkit/core';
import { LOG_LEVELS, type LogLevel } from './logging.js';
import { resolveStrategy } from './presets/index.js';
import { parseStoreUrl } from './store/url.js';
import { similar } from './suggest.js';

/** The environment variables idemkit reads, and the option each sets. */
export const ENV_VARIABLES = {
  IDEMKIT_STORE: 'store',
  IDEMKIT_STRATEGY: 'strategy',
  IDEMKIT_ORDERING: 'ordering',
  IDEMKIT_NAMESPACE: 'namespace',
  IDEMKIT_LEASE_MS: 'leaseMs',
  IDEMKIT_LEASE_MARGIN_MS: 'leaseMarginMs',
  IDEMKIT_RETENTION_MS: 'retentionMs',
  IDEMKIT_PAYLOAD_MISMATCH: 'payloadMismatch',
  IDEMKIT_STORE_RESULT: 'storeResult',
  IDEMKIT_ON_OVERSIZE_RESULT: 'onOversizeResult',
  IDEMKIT_FAIL_OPEN: 'failOpen',
  IDEMKIT_LOG_LEVEL: 'logLevel',
} as const;

/** What {@link configFromEnv} found: only the options whose variable is set. */
export interface EnvConfig {
  /** `IDEMKIT_STORE`: a store URL, checked but not opened. */
  store?: string;
  /** `IDEMKIT_STRATEGY`: the strategy, built from its JSON (or a bare preset name). */
  strategy?: DedupKeyStrategy;
  /** `IDEMKIT_ORDERING`: the ordering guard's JSON config, checked. */
  ordering?: OrderingConfig;
  /** `IDEMKIT_NAMESPACE` */
  namespace?: string;
  /** `IDEMKIT_LEASE_MS` */
  leaseMs?: number;
  /** `IDEMKIT_LEASE_MARGIN_MS` */
  leaseMarginMs?: number;
  /** `IDEMKIT_RETENTION_MS` */
  retentionMs?: number;
  /** `IDEMKIT_PAYLOAD_MISMATCH`: `error`, `warn` or `ignore`. */
  payloadMismatch?: PayloadMismatchPolicy;
  /** `IDEMKIT_STORE_RESULT`: `true` or `false`. */
  storeResult?: boolean;
  /** `IDEMKIT_ON_OVERSIZE_RESULT`: `error` or `skip`. */
  onOversizeResult?: OversizePolicy;
  /** `IDEMKIT_FAIL_OPEN`: `true` or `false`. */
  failOpen?: boolean;
  /** `IDEMKIT_LOG_LEVEL`: `debug`, `info`, `warn`, `error` or `off`. */
  logLevel?: LogLevel;
}

type EnvName = keyof typeof ENV_VARIABLES;

// The engine's namespace rule, checked here so the error names the variable.
const NAMESPACE_PATTERN = /^[A-Za-z0-9_.\-/]{1,64}$/;

/**
 * Reads idemkit's configuration from environment variables, so a Lambda can pick its store and
 * key strategy without a code change. Unset or empty variables are left out; every value is
 * checked now, and an `IDEMKIT_*` variable idemkit does not know (a typo) is refused.
 *
 * | variable | example |
 * | --- | --- |
 * | `IDEMKIT_STORE` | `redis://cache:6379`, `dynamodb://idempotency?region=eu-west-1` |
 * | `IDEMKIT_STRATEGY` | `{"preset":"genesysCloud"}`, `genesysCloud`, `{"strategy":"eventId","path":"detail.eventId"}` |
 * | `IDEMKIT_ORDERING` | `{"entity":"detail.eventBody.conversationId","version":["detail.eventBody.eventTime","id"]}` |
 * | `IDEMKIT_NAMESPACE` | `crm-sync` |
 * | `IDEMKIT_LEASE_MS`, `IDEMKIT_LEASE_MARGIN_MS`, `IDEMKIT_RETENTION_MS` | `86400000` |
 * | `IDEMKIT_PAYLOAD_MISMATCH` | `error`, `warn`, `ignore` |
 * | `IDEMKIT_STORE_RESULT`, `IDEMKIT_FAIL_OPEN` | `true`, `false` |
 * | `IDEMKIT_ON_OVERSIZE_RESULT` | `error`, `skip` |
 * | `IDEMKIT_LOG_LEVEL` | `debug`, `info`, `warn`, `error`, `off` |
 *
 * The wrappers call this themselves for every option their code config leaves out; call it to
 * check a deployment's variables, or to build a config by hand.
 * @throws {@link ConfigError} whose `field` names the variable, e.g. `IDEMKIT_LEASE_MS`, or
 * `IDEMKIT_STRATEGY.of[1].windowMs` inside the strategy JSON.
 * @example
 * ```ts
 * const config = configFromEnv(); // { store: 'redis://cache:6379', strategy: …, retentionMs: 86400000 }
 * ```
 */
export function configFromEnv(env: Record<string, string | undefined> = process.env): EnvConfig {
  rejectUnknown(env);
  const value = (name: EnvName) => {
    const text = env[name];
    return text === undefined || text.trim() === '' ? undefined : text.trim();
  };
  const config: EnvConfig = {};
  const store = value('IDEMKIT_STORE');
  if (store !== undefined) {
    parseStoreUrl(store, 'IDEMKIT_STORE');
    config.store = store;
  }
  const strategy = value('IDEMKIT_STRATEGY');
  if (strategy !== undefined) config.strategy = inVariable('IDEMKIT_STRATEGY', () => resolveStrategy(strategy));
  const ordering = value('IDEMKIT_ORDERING');
  if (ordering !== undefined) config.ordering = inVariable('IDEMKIT_ORDERING', () => orderingFromConfig(ordering));
  const namespace = value('IDEMKIT_NAMESPACE');
  if (namespace !== undefined) {
    if (!NAMESPACE_PATTERN.test(namespace)) {
      throw new ConfigError('IDEMKIT_NAMESPACE', `must be 1-64 letters, digits, "_", ".", "-" or "/", got ${JSON.stringify(namespace)}`);
    }
    config.namespace = namespace;
  }
  setIf(config, 'leaseMs', milliseconds('IDEMKIT_LEASE_MS', value('IDEMKIT_LEASE_MS')));
  setIf(config, 'leaseMarginMs', milliseconds('IDEMKIT_LEASE_MARGIN_MS', value('IDEMKIT_LEASE_MARGIN_MS')));
  setIf(config, 'retentionMs', milliseconds('IDEMKIT_RETENTION_MS', value('IDEMKIT_RETENTION_MS')));
  setIf(config, 'payloadMismatch', oneOf('IDEMKIT_PAYLOAD_MISMATCH', value('IDEMKIT_PAYLOAD_MISMATCH'), ['error', 'warn', 'ignore'] as const));
  setIf(config, 'storeResult', boolean('IDEMKIT_STORE_RESULT', value('IDEMKIT_STORE_RESULT')));
  setIf(config, 'onOversizeResult', oneOf('IDEMKIT_ON_OVERSIZE_RESULT', value('IDEMKIT_ON_OVERSIZE_RESULT'), ['error', 'skip'] as const));
  setIf(config, 'failOpen', boolean('IDEMKIT_FAIL_OPEN', value('IDEMKIT_FAIL_OPEN')));
  setIf(config, 'logLevel', oneOf('IDEMKIT_LOG_LEVEL', value('IDEMKIT_LOG_LEVEL'), LOG_LEVELS));
  return config;
}

function setIf<K extends keyof EnvConfig>(config: EnvConfig, key: K, value: EnvConfig[K] | undefined): void {
  if (value !== undefined) config[key] = value;
}

function rejectUnknown(env: Record<string, string | undefined>): void {
  const known = Object.keys(ENV_VARIABLES);
  for (const name of Object.keys(env)) {
    if (!name.startsWith('IDEMKIT_') || known.includes(name)) continue;
    const guess = known.find((candidate) => similar(candidate, name));
    throw new ConfigError(
      name,
      `is not an idemkit variable${guess === undefined ? '' : ` (did you mean ${guess}?)`}; idemkit reads ${known.join(', ')}`,
    );
  }
}

function inVariable<T>(name: EnvName, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const field = error.field === '(root)' ? name : `${name}.${error.field}`;
    const problem = error.message.replace(/^\[idemkit\] invalid config at "[^"]*": /, '');
    throw new ConfigError(field, problem, { cause: error });
  }
}

function milliseconds(name: EnvName, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new ConfigError(name, `must be a positive whole number of milliseconds, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function boolean(name: EnvName, text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  const lower = text.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(text)}`);
}

function oneOf<T extends string>(name: EnvName, text: string | undefined, allowed: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`);
}
