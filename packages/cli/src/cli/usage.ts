/** `idemkit --help`. */
export const USAGE = `Usage: idemkit analyze <file…> [options]

Runs candidate key strategies over captured events with the engine's real semantics and
recommends the one that runs each logical event once, with the IDEMKIT_STRATEGY to deploy it.

Files: JSONL, a JSON array, SQS events (Records[].body), CloudWatch Logs exports (a JSON
message per line, filter-log-events output, Logs Insights @message), or gzip of any of these.

Options:
  --strategy JSON        also run this strategy (core config, {"preset":…} or a preset name); repeatable
  --no-discover          run only the --strategy candidates
  --json                 print the report as JSON (for scripts) instead of tables
  --html FILE            also write a self-contained HTML report with the charts
  --window-ms N          use this window for windowed candidates instead of choosing it from the gaps
  --retention-ms N       how long keys are remembered, in event time (default 3600000: the engine's)
  --max-entries N        occurrences each candidate's in-memory store holds (default 25000)
  --reorder-buffer N     deliveries held back to restore event-time order (default 2000; 0: arrival order)
  --sample N             events read to discover fields (default 2000)
  --time PATH            the event-time field (default: found in the sample)
  --entity PATH          the entity of the identity duplicates are judged by
  --state PATH           its state
  --volatile PATH        a field that differs between deliveries of one event; repeatable
  --examples N           examples kept per warning (default 5)
  --no-progress          no progress bar (there is none when stderr is not a terminal)
  -h, --help             this text
  -v, --version          the version

Exit codes: 0 done, 1 a file could not be read, 2 bad arguments.
`;
