import type { TrafficStats } from './traffic-generator';

/** One service as the view shows it. */
export interface ServiceRow {
  name: string;
  port: number;
  state: string;
  logFile: string;
}

/** Sums of the Prometheus samples the view cares about, per service. */
export interface MetricsSnapshot {
  dlqRecords: number;
  recordsIn: number;
  recordsOut: number;
  lake: { recordsLanded: number; filesUploaded: number; hoursClosed: number; hoursCompacted: number };
  /** The clickstream collector's counters (absent when it does not answer). */
  clickstream?: ClickstreamSnapshot;
  /** file-ingest's and partner-sftp's counters. */
  files?: FilesSnapshot;
}

export interface FilesSnapshot {
  partnerStored: number;
  partnerRefused: number;
  ingestCopied: number;
  ingestSkipped: number;
  ingestFailed: number;
}

/** file-ingest's runs and partner-sftp's uploads, from the services' `/metrics` texts. */
export function filesSnapshot(text: string): FilesSnapshot {
  const total = (metric: string) => [...sumByLabel(text, metric, 'service').values()].reduce((a, n) => a + n, 0);
  const ingest = sumByLabel(text, 'file_ingest_files_total', 'outcome');
  return {
    partnerStored: total('partner_sftp_files_stored_total'),
    partnerRefused: total('partner_sftp_refusals_total'),
    ingestCopied: ingest.get('copied') ?? 0,
    ingestSkipped: ingest.get('skipped') ?? 0,
    ingestFailed: ingest.get('failed') ?? 0,
  };
}

export interface ClickstreamSnapshot {
  /** Events published to Kafka, in total and per event type. */
  published: number;
  byType: Record<string, number>;
  invalid: number;
  dropped: number;
  failed: number;
  throttled: number;
  /** Published events per second over the last sampling window. */
  perSecond: number;
  /** The demo shop's address. */
  shopUrl: string;
}

/** `label value → sum` of one metric's samples (other labels summed away), e.g. events by `outcome`. */
export function sumByLabel(text: string, metric: string, label: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== metric) continue;
    const labels = new Map([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    const key = labels.get(label) ?? '';
    const value = Number(match[3]);
    if (Number.isFinite(value)) sums.set(key, (sums.get(key) ?? 0) + value);
  }
  return sums;
}

/**
 * The collector's counters from its `/metrics` text; `perSecond` comes from the caller, which keeps
 * the history of `published` over time.
 */
export function clickstreamSnapshot(text: string, shopUrl: string, perSecond = 0): ClickstreamSnapshot {
  const byOutcome = sumByLabel(text, 'clickstream_events_total', 'outcome');
  // Only published events carry their type.
  const byType = Object.fromEntries([...sumByLabel(text, 'clickstream_events_total', 'event_type')].filter(([type]) => type !== ''));
  return {
    published: byOutcome.get('published') ?? 0,
    byType,
    invalid: byOutcome.get('invalid') ?? 0,
    dropped: byOutcome.get('dropped') ?? 0,
    failed: byOutcome.get('failed') ?? 0,
    throttled: sumByLabel(text, 'clickstream_requests_total', 'outcome').get('throttled') ?? 0,
    perSecond,
    shopUrl,
  };
}

/** Parses the Prometheus text format into `name → sum of all its samples` (labels summed away). */
export function sumSamples(text: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    if (Number.isFinite(value)) sums.set(match[1], (sums.get(match[1]) ?? 0) + value);
  }
  return sums;
}

/** Total of every counter whose name matches: the view stays useful whatever a service names its metrics. */
export function sumMatching(sums: Map<string, number>, pattern: RegExp): number {
  let total = 0;
  for (const [name, value] of sums) if (pattern.test(name) && name.endsWith('_total')) total += value;
  return total;
}

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const BOLD = '\x1b[1m';
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

function ms(value: number | undefined): string {
  return value === undefined ? '—' : value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(1)} s`;
}

/** The whole screen, as lines; `color` off for pipes and CI logs. */
export function renderView(input: {
  services: ServiceRow[];
  traffic?: TrafficStats;
  /** The generator will run (no --no-traffic) but has not started: it waits for the services. */
  trafficPending?: boolean;
  metrics: MetricsSnapshot;
  startedAt: number;
  message?: string;
  color: boolean;
}): string[] {
  const b = (s: string) => (input.color ? BOLD + s + RESET : s);
  const d = (s: string) => (input.color ? DIM + s + RESET : s);
  const uptime = Math.round((Date.now() - input.startedAt) / 1000);
  const lines = [b(`SecureCart Pipeline — local run, up ${uptime}s`) + d('   (Ctrl-C stops the services; the stack keeps running)'), ''];
  lines.push(b('services'));
  const nameWidth = Math.max(18, ...input.services.map((s) => s.name.length));
  for (const s of input.services) lines.push(`  ${s.name.padEnd(nameWidth)} :${s.port}  ${s.state.padEnd(10)} ${d(`log ${s.logFile}`)}`);
  lines.push('');
  const t = input.traffic;
  if (t) {
    const finals = Object.values(t.finals).reduce((a, n) => a + n, 0);
    const reasons = Object.entries(t.reasons)
      .sort((x, y) => y[1] - x[1])
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    lines.push(b('orders') + d('  (from the demo traffic generator; --no-traffic turns it off)'));
    lines.push(`  placed ${t.placed}   confirmed ${t.finals.CONFIRMED ?? 0}   rejected ${t.finals.REJECTED ?? 0}   cancelled ${t.finals.CANCELLED ?? 0}   in review ${t.inReview}   in flight ${t.inFlight}`);
    lines.push(`  reasons (rejected, cancelled): ${reasons || '—'}`);
    lines.push(`  throughput ${(t.finalTimes.length / 10).toFixed(1)} final states/s (last 10 s)   POST→final p50 ${ms(percentile(t.latencies, 50))}  p99 ${ms(percentile(t.latencies, 99))}   finals ${finals}`);
    lines.push(`  client errors ${t.httpErrors}${t.lastError ? d(`  last: ${t.lastError}`) : ''}`);
  } else if (input.trafficPending) {
    lines.push(b('orders') + d('  the demo traffic generator starts once every service is ready'));
  } else {
    lines.push(b('orders') + d('  traffic generator off (--no-traffic): POST http://127.0.0.1:3000/orders yourself'));
  }
  lines.push('');
  const m = input.metrics;
  lines.push(b('kafka') + `  records in ${m.recordsIn}   out ${m.recordsOut}   DLQ ${m.dlqRecords}`);
  const c = m.clickstream;
  if (c) {
    const types = Object.entries(c.byType)
      .sort((x, y) => y[1] - x[1])
      .map(([type, n]) => `${type} ${n}`)
      .join(', ');
    lines.push(b('clickstream') + `  ${c.perSecond.toFixed(1)} events/s   published ${c.published}   invalid ${c.invalid}   dropped (bots) ${c.dropped}   failed ${c.failed}   throttled requests ${c.throttled}`);
    lines.push(`  by type: ${types || '—'}`);
    lines.push(d(`  demo shop: ${c.shopUrl}  (open it and click: page views, products, search, add to cart, checkout)`));
  }
  const f = m.files;
  if (f) {
    lines.push(
      b('files') +
        `  partner uploads stored ${f.partnerStored}   sftp refused ${f.partnerRefused}   file-ingest copied ${f.ingestCopied}   skipped ${f.ingestSkipped}   failed ${f.ingestFailed}` +
        d('  (sftp :2222; file-ingest runs with FILE_INGEST_SOURCES)'),
    );
  }
  lines.push(b('lake ') + `  records landed ${m.lake.recordsLanded}   segment uploads ${m.lake.filesUploaded}   hours closed ${m.lake.hoursClosed}   compactions ${m.lake.hoursCompacted}`);
  lines.push(d('       npm run lake:status · npm run query -- "select count(*) from orders_order_placed_v1"'));
  if (c) lines.push(d('       npm run lake:compact -- --topic clickstream.events.v1 --hour <YYYY-MM-DDTHH> · npm run query -- "select eventType, count(*) from clickstream_events_v1 group by all"'));
  if (input.message) lines.push('', input.message);
  return lines;
}
