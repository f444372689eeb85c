// Public surface of the key strategies; internal helpers stay unexported.
export type { DedupIdentity, DedupKey, DedupKeyStrategy, KeyPart, KeyWindow } from './types.js';
export { eventId, type EventIdOptions } from './event-id.js';
export { stateWindow, type StateWindowOptions, type StateWindowStrategy } from './state-window.js';
export { contentHash, type ContentHashOptions } from './content-hash.js';
export { composite, type CompositeOptions, type CompositeStrategy } from './composite.js';
export { custom } from './custom.js';
export { anyOf, type AnyOfOptions, type AnyOfStrategy } from './any-of.js';
export {
  strategyFromConfig,
  CONFIG_STRATEGIES,
  type StrategyConfig,
  type EventIdConfig,
  type StateWindowConfig,
  type ContentHashConfig,
  type CompositeConfig,
  type AnyOfConfig,
} from './from-config.js';
export { previewStrategy, type PreviewEntry } from './preview.js';
export { formatKey, MAX_KEY_LENGTH } from './key-format.js';
export { MAX_WINDOW_MS } from './checks.js';
export { canonicalJson } from '../internal/canonical-json.js';
export { sha256Base64url } from '../internal/hash.js';
