/** What one parsed record holds: events, or why a part of it is not one. */
export type Unwrapped = { event: Record<string, unknown> } | { problem: string } | { noise: true };

// Deep enough for an SQS record whose body is an SNS notification of a logged event; a record
// nested further than this is not a capture format, and the limit keeps hostile input finite.
const MAX_NESTING = 5;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Finds the events in one parsed record of a capture, whatever wraps them:
 * - an SQS event (`Records[].body`), an SQS record, `aws sqs receive-message` output (`Messages[].Body`),
 *   an SNS notification inside a body (`Message`);
 * - CloudWatch Logs: `filter-log-events` output (`events[].message`), a subscription payload
 *   (`logEvents[].message`), a Logs Insights row (`@message`, or `get-query-results`'
 *   `[{ field, value }]`), a log line with a prefix before its JSON (`2024-… RequestId INFO {…}`),
 *   and a structured log entry whose `event` field holds the event;
 * - an array of any of these, or JSON text of any of these.
 * Anything else that is an object is taken as an event itself.
 */
export function unwrap(value: unknown): Unwrapped[] {
  const out: Unwrapped[] = [];
  collect(value, 0, out);
  return out;
}

/** Finds the events in a log line whose JSON follows a prefix (`2024-… RequestId INFO {…}`). */
export function unwrapLogLine(line: string): Unwrapped[] {
  const out: Unwrapped[] = [];
  fromText({ text: line, what: 'the JSON after the log prefix', log: true }, 0, out);
  return out;
}

function collect(value: unknown, depth: number, out: Unwrapped[]): void {
  if (depth > MAX_NESTING) {
    out.push({ problem: `nested more than ${MAX_NESTING} wrappers deep` });
    return;
  }
  if (typeof value === 'string') {
    fromText({ text: value, what: 'a string element', log: false }, depth, out);
    return;
  }
  if (Array.isArray(value)) {
    const message = insightsMessage(value);
    if (message !== undefined) fromText({ text: message, what: 'its @message', log: true }, depth, out);
    else for (const item of value) collect(item, depth + 1, out);
    return;
  }
  if (!isObject(value)) {
    out.push({ problem: `a JSON ${value === null ? 'null' : typeof value}, not an event object` });
    return;
  }
  const inner = wrapped(value);
  if (inner === undefined) {
    out.push({ event: loggedEvent(value) ?? value });
    return;
  }
  if ('items' in inner) for (const item of inner.items) collect(item, depth + 1, out);
  else fromText(inner, depth, out);
}

/** Text that should hold JSON: `what` names it for problems; a `log` message without JSON is noise. */
interface WrappedText {
  text: string;
  what: string;
  log: boolean;
}

type Inner = { items: unknown[] } | WrappedText;

// The wrapper an object is, by its shape (containers are only recognised next to their marker fields).
function wrapped(value: Record<string, unknown>): Inner | undefined {
  if ('detail' in value) return undefined; // an EventBridge event, whatever else it carries
  for (const container of ['Records', 'Messages', 'logEvents', 'results', 'events']) {
    const items = value[container];
    if (Array.isArray(items)) return { items };
  }
  const body = value['body'] ?? value['Body'];
  if (typeof body === 'string' && ('messageId' in value || 'MessageId' in value || value['eventSource'] === 'aws:sqs')) {
    return { text: body, what: 'its SQS body', log: false };
  }
  if (typeof value['Message'] === 'string' && value['Type'] === 'Notification') {
    return { text: value['Message'], what: 'its SNS Message', log: false };
  }
  if (typeof value['@message'] === 'string') return { text: value['@message'], what: 'its @message', log: true };
  if (typeof value['message'] === 'string' && typeof value['timestamp'] === 'number') {
    return { text: value['message'], what: 'its log message', log: true };
  }
  return undefined;
}

// A structured log entry (`{ level, message, event: {…} }`, as Powertools' logEvent writes it).
function loggedEvent(value: Record<string, unknown>): Record<string, unknown> | undefined {
  const event = value['event'];
  if (!isObject(event) || !('level' in value || 'message' in value)) return undefined;
  return 'detail' in event || 'detail-type' in event ? event : undefined;
}

// Logs Insights `get-query-results` rows are `[{ field: '@timestamp', value }, { field: '@message', value }]`.
function insightsMessage(row: unknown[]): string | undefined {
  for (const cell of row) {
    if (!isObject(cell) || typeof cell['field'] !== 'string') return undefined;
    if (cell['field'] === '@message' && typeof cell['value'] === 'string') return cell['value'];
  }
  return undefined;
}

/**
 * Parses the JSON in a log message or body: the whole text, or, for a log line with a prefix
 * (`2024-03-07T10:15:30Z\tc0ffee\tINFO\t{…}`), from its first `{` to its last `}`.
 */
function fromText({ text, what, log }: WrappedText, depth: number, out: Unwrapped[]): void {
  const start = text.indexOf('{');
  if (start < 0) {
    // A log line without JSON (START/END/REPORT lines of a Lambda log) is noise, not a bad event.
    out.push(log ? { noise: true } : { problem: `${what} holds no JSON object` });
    return;
  }
  const end = text.lastIndexOf('}');
  let parsed: unknown;
  try {
    parsed = JSON.parse(start === 0 && end === text.length - 1 ? text : text.slice(start, end + 1));
  } catch {
    // JSON.parse's message quotes the text: never echo payloads into a report.
    out.push({ problem: `${what} is not valid JSON` });
    return;
  }
  collect(parsed, depth + 1, out);
}
