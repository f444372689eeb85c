import { sha256Base64url } from '@idemkit/core';
import type { LambdaContextLike } from './types.js';

/** The engine's namespace rule; a default namespace is made to fit it. */
const MAX_NAMESPACE_LENGTH = 64;
const NOT_ALLOWED = /[^A-Za-z0-9_.\-]+/g;
// Room for `-` + 10 digest characters when a long namespace is shortened.
const DIGEST_LENGTH = 10;

/** The handler name used when neither `name` nor the function's own name gives one. */
export const ANONYMOUS_HANDLER_NAME = 'handler';

/**
 * The handler half of a default namespace: the configured `name`, else the handler
 * function's own name, else `handler`.
 */
export function handlerNameOf(configured: string | undefined, handler?: { readonly name: string }): string {
  const name = configured ?? handler?.name;
  return name === undefined || name.trim() === '' ? ANONYMOUS_HANDLER_NAME : name;
}

/**
 * The default namespace of one wrapper: `<function name>/<handler name>`, so two handlers
 * wrapped in one Lambda never share keys. The function name comes from the context, else
 * `AWS_LAMBDA_FUNCTION_NAME`, else `idemkit`. Characters the engine does not accept become `-`,
 * and a result longer than 64 characters keeps its start and ends with a digest of the whole.
 * @example defaultNamespace({ functionName: 'orders-prod' }, 'onConversationEnd') // 'orders-prod/onConversationEnd'
 */
export function defaultNamespace(
  context: LambdaContextLike | undefined,
  handlerName: string,
  env: Record<string, string | undefined> = process.env,
): string {
  const functionName = context?.functionName || env['AWS_LAMBDA_FUNCTION_NAME'] || 'idemkit';
  const namespace = `${clean(functionName)}/${clean(handlerName)}`;
  if (namespace.length <= MAX_NAMESPACE_LENGTH) return namespace;
  const digest = sha256Base64url(namespace).slice(0, DIGEST_LENGTH);
  return `${namespace.slice(0, MAX_NAMESPACE_LENGTH - DIGEST_LENGTH - 1)}-${digest}`;
}

function clean(part: string): string {
  const cleaned = part.replace(NOT_ALLOWED, '-');
  return cleaned === '' ? '-' : cleaned;
}
