/**
 * `npm start`: runs every built service side by side against the local stack, sends demo traffic, and
 * shows a live view refreshed in place instead of a flood of JSON lines. Service logs go to files the view
 * names. Ctrl-C stops the traffic, then each service with SIGTERM (they leave their groups), then exits.
 *
 * Each service connects as its own SCRAM principal with only its ACLs (`npm run acl:apply`), as in
 * production with IAM; `--plaintext` uses the unauthenticated listener instead.
 *
 * The clickstream collector serves a demo shop (printed once ready): clicking in it shows events in
 * the view; the sink lands them with everything else.
 *
 * Flags: --no-traffic (no generator), --rate <orders/s> (default 5), --plaintext.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { localServiceEnv } from '../acl/local-principals';
import { realignSinkWithEmptyLake } from './lake-alignment';
import { clickstreamSnapshot, filesSnapshot, renderView, sumMatching, sumSamples, type MetricsSnapshot, type ServiceRow } from './live-view';
import { TrafficGenerator } from './traffic-generator';

const ROOT = path.resolve(__dirname, '../..');
const LOG_DIR = path.join(ROOT, '.local-stack/logs');
const SERVICES = [
  { name: 'order-service', port: 3000 },
  { name: 'inventory-service', port: 3001 },
  { name: 'fraud-service', port: 3002 },
  { name: 's3-sink', port: 3003 },
  { name: 'clickstream-collector', port: 3004 },
  // Idle unless FILE_INGEST_SOURCES is set (passed through from the user's environment).
  { name: 'file-ingest', port: 3006 },
  // SFTP on :2222; host key and partner keys under .local-stack/partner-sftp/, made on first start.
  { name: 'partner-sftp', port: 3007 },
];
const SHOP_URL = 'http://127.0.0.1:3004/shop';
/** Events/s in the view: published events over about this long. */
const RATE_WINDOW_MS = 10_000;

/**
 * Settings the demo run gives a service unless the user's environment sets them: the sink cuts its
 * files every 30 s of record time (not 10 min, sized for production files), so the lake trails the
 * demo by about half a minute.
 */
const DEMO_ENV: Record<string, Record<string, string>> = {
  's3-sink': {
    SINK_ROTATE_AGE: '30s',
    // The order topics' compacted hours are also committed to Iceberg tables (curated/<topic>/metadata/).
    LAKE_TABLE_FORMAT: [
      'orders.order-placed.v1',
      'orders.order-confirmed.v1',
      'orders.order-rejected.v1',
      'orders.order-cancelled.v1',
    ]
      .map((topic) => `${topic}=iceberg`)
      .join(','),
  },
};

function demoEnv(service: string): Record<string, string> {
  return Object.fromEntries(Object.entries(DEMO_ENV[service] ?? {}).filter(([name]) => process.env[name] === undefined));
}
const STOP_GRACE_MS = 15_000;

interface Flags {
  traffic: boolean;
  rate: number;
  plaintext: boolean;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { traffic: true, rate: 5, plaintext: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--no-traffic') flags.traffic = false;
    else if (arg === '--rate') flags.rate = Number(argv[++i]);
    else if (arg === '--plaintext') flags.plaintext = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: npm start [-- --no-traffic] [--rate <orders per second>] [--plaintext]\n');
      process.exit(0);
    } else {
      process.stderr.write(`unknown flag ${arg}; try: npm start -- --help\n`);
      process.exit(64);
    }
  }
  if (!(flags.rate > 0 && flags.rate <= 500)) {
    process.stderr.write('--rate must be a number of orders per second between 1 and 500\n');
    process.exit(64);
  }
  return flags;
}

class Supervisor {
  readonly rows: ServiceRow[];
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;
  /** (time, published clickstream events) samples for the events/s figure. */
  private readonly clickstreamHistory: Array<{ at: number; published: number }> = [];
  onUnexpectedExit?: (name: string, code: number | null, signal: string | null) => void;

  constructor(private readonly plaintext: boolean) {
    mkdirSync(LOG_DIR, { recursive: true });
    this.rows = SERVICES.map((s) => ({ ...s, state: 'starting', logFile: path.relative(ROOT, path.join(LOG_DIR, `${s.name}.log`)) }));
  }

  startAll(): void {
    for (const row of this.rows) {
      const log = openSync(path.join(ROOT, row.logFile), 'a');
      // Own process group: Ctrl-C reaches only this supervisor, which stops services in order.
      const child = spawn(process.execPath, [path.join(ROOT, 'dist/apps', row.name, 'main.js')], {
        cwd: ROOT,
        env: { ...process.env, ...demoEnv(row.name), ...(this.plaintext ? {} : localServiceEnv(row.name)), HTTP_PORT: String(row.port) },
        stdio: ['ignore', log, log],
        detached: true,
      });
      child.on('exit', (code, signal) => {
        row.state = this.stopping ? 'stopped' : `exited ${signal ?? code}`;
        if (!this.stopping) this.onUnexpectedExit?.(row.name, code, signal);
      });
      this.children.set(row.name, child);
    }
  }

  async pollHealth(): Promise<void> {
    await Promise.all(
      this.rows.map(async (row) => {
        if (row.state.startsWith('exited') || row.state === 'stopped') return;
        try {
          const res = await fetch(`http://127.0.0.1:${row.port}/health/ready`, { signal: AbortSignal.timeout(2000) });
          row.state = res.ok ? 'ready' : 'not ready';
        } catch {
          if (row.state !== 'starting') row.state = 'no answer';
        }
      }),
    );
  }

  async scrape(): Promise<MetricsSnapshot> {
    const texts = await Promise.all(
      this.rows.map(async (row) => {
        try {
          const res = await fetch(`http://127.0.0.1:${row.port}/metrics`, { signal: AbortSignal.timeout(2000) });
          return await res.text();
        } catch {
          return undefined;
        }
      }),
    );
    const sums = texts.map((text) => (text === undefined ? new Map<string, number>() : sumSamples(text)));
    const total = (pattern: RegExp) => sums.reduce((acc, s) => acc + sumMatching(s, pattern), 0);
    const collectorText = texts[this.rows.findIndex((r) => r.name === 'clickstream-collector')];
    return {
      dlqRecords: total(/dlq/i),
      recordsIn: total(/records_in/i),
      recordsOut: total(/records_out/i),
      lake: {
        recordsLanded: total(/sink_records_landed/i),
        filesUploaded: total(/sink_uploads/i),
        hoursClosed: total(/sink_hours_closed/i),
        hoursCompacted: total(/lake_compactions/i),
      },
      clickstream: collectorText === undefined ? undefined : this.withRate(clickstreamSnapshot(collectorText, SHOP_URL)),
      files: filesSnapshot(texts.filter((t): t is string => t !== undefined).join('\n')),
    };
  }

  private withRate(snapshot: ReturnType<typeof clickstreamSnapshot>): ReturnType<typeof clickstreamSnapshot> {
    const now = Date.now();
    this.clickstreamHistory.push({ at: now, published: snapshot.published });
    while (this.clickstreamHistory.length > 2 && now - this.clickstreamHistory[1].at >= RATE_WINDOW_MS) this.clickstreamHistory.shift();
    const oldest = this.clickstreamHistory[0];
    const seconds = (now - oldest.at) / 1000;
    return { ...snapshot, perSecond: seconds > 0 ? Math.max(0, snapshot.published - oldest.published) / seconds : 0 };
  }

  /** SIGTERM to every running service; a service still running after the grace period is killed. Returns their names. */
  async stopAll(): Promise<string[]> {
    this.stopping = true;
    const killed: string[] = [];
    const running = [...this.children.entries()].filter(([, c]) => c.exitCode === null && c.signalCode === null);
    await Promise.all(
      running.map(
        ([name, child]) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              killed.push(name);
              child.kill('SIGKILL');
              resolve();
            }, STOP_GRACE_MS);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    return killed;
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const tty = Boolean(process.stdout.isTTY);
  const supervisor = new Supervisor(flags.plaintext);
  const startedAt = Date.now();
  let traffic: TrafficGenerator | undefined;
  let message: string | undefined = 'starting services…';
  let metrics: MetricsSnapshot = { dlqRecords: 0, recordsIn: 0, recordsOut: 0, lake: { recordsLanded: 0, filesUploaded: 0, hoursClosed: 0, hoursCompacted: 0 } };
  let shuttingDown = false;

  const draw = () => {
    const lines = renderView({ services: supervisor.rows, traffic: traffic?.stats, trafficPending: flags.traffic && !traffic, metrics, startedAt, message, color: tty });
    if (tty) process.stdout.write('\x1b[H\x1b[2J' + lines.join('\n') + '\n');
  };
  // Without a terminal (CI, pipes) a summary line every 10 s instead of redrawing.
  const summary = () => {
    const t = traffic?.stats;
    const services = supervisor.rows.map((r) => `${r.name}=${r.state}`).join(' ');
    const orders = t ? ` placed=${t.placed} confirmed=${t.finals.CONFIRMED ?? 0} rejected=${t.finals.REJECTED ?? 0} cancelled=${t.finals.CANCELLED ?? 0} inFlight=${t.inFlight} errors=${t.httpErrors}` : '';
    const c = metrics.clickstream;
    const clicks = c ? ` clickstream=${c.published} (${c.perSecond.toFixed(1)}/s)` : '';
    process.stdout.write(`[start] ${services}${orders}${clicks} dlq=${metrics.dlqRecords} landed=${metrics.lake.recordsLanded}\n`);
  };

  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    message = 'stopping: traffic, then each service (SIGTERM)…';
    draw();
    await traffic?.stop();
    const killed = await supervisor.stopAll();
    message = killed.length > 0 ? `killed after ${STOP_GRACE_MS / 1000} s without stopping: ${killed.join(', ')}` : undefined;
    draw();
    if (killed.length > 0) {
      // Nothing is lost (offsets are committed only after output is durable), but say what it means.
      process.stdout.write(
        `${killed.join(', ')} did not stop within ${STOP_GRACE_MS / 1000} s and ${killed.length === 1 ? 'was' : 'were'} killed: ` +
          'what they had not committed is processed again on the next start (the s3-sink lands it then).\n',
      );
    }
    process.stdout.write(code === 0 ? 'stopped. The stack keeps running: npm run stack:down stops it.\n' : '');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  supervisor.onUnexpectedExit = (name, code, signal) => {
    message = `${name} exited (${signal ?? code}); its log: .local-stack/logs/${name}.log — stopping the others`;
    process.stderr.write(message + '\n');
    void shutdown(1);
  };

  try {
    const note = await realignSinkWithEmptyLake(process.env);
    if (note) {
      process.stderr.write(`[start] ${note}\n`);
      message = `starting services… (${note})`;
    }
  } catch (err) {
    process.stderr.write(`[start] could not compare the lake with the sink's offsets (${(err as Error).message}); starting anyway\n`);
  }
  supervisor.startAll();
  const viewTimer = setInterval(draw, 1000);
  const summaryTimer = tty ? undefined : setInterval(summary, 10_000);
  const pollTimer = setInterval(() => {
    void supervisor.pollHealth();
    void supervisor.scrape().then((m) => (metrics = m));
  }, 1000);
  void [viewTimer, summaryTimer, pollTimer];

  const readyBy = Date.now() + 120_000;
  while (!shuttingDown && supervisor.rows.some((r) => r.state !== 'ready')) {
    if (Date.now() > readyBy) {
      message = `not ready after 120 s: ${supervisor.rows.filter((r) => r.state !== 'ready').map((r) => `${r.name} (see ${r.logFile})`).join(', ')}`;
      process.stderr.write(message + '\n');
      return shutdown(1);
    }
    await supervisor.pollHealth();
    await new Promise((r) => setTimeout(r, 500));
  }
  if (shuttingDown) return;
  message = undefined;
  if (flags.traffic) {
    traffic = new TrafficGenerator({ orderServiceUrl: 'http://127.0.0.1:3000', inventoryServiceUrl: 'http://127.0.0.1:3001', ratePerSecond: flags.rate });
    try {
      await traffic.start();
    } catch (err) {
      message = `traffic generator could not start: ${(err as Error).message}`;
    }
  }
  if (!tty) {
    process.stdout.write(`[start] demo shop: ${SHOP_URL} (open it in a browser and click; clickstream events show here)\n`);
    summary();
  }
}

void main();
