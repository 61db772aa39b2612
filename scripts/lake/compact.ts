// npm run lake:compact -- --topic <topic> --hour 2026-11-28T05 — closes the hour now (writes its raw
// manifest from the segments landed so far) and compacts it to curated Parquet. Idempotent: a second
// run with nothing new changes nothing. For operators and backfills; the sink does the same by itself.
// For an hour the sink still holds open, it first waits (--wait-timeout, default 90s; --no-wait skips)
// until the sink has landed every record produced before the command started.
import { allTopics } from '@app/contracts';
import { createKafkaClient } from '@app/kafka';
import {
  closeHour,
  hourStartMillis,
  rawHourPrefix,
  loadCompactionSettings,
  loadLandingSettings,
  parseDurationMs,
  runCompaction,
  waitForLanding,
  type CompactionProgress,
  type LandingLag,
} from '@app/lake';
import type { AppConfig } from '@app/config';
import { fail, formatBytes, openLake, parseArgs } from './lake-cli';

const HOUR_MS = 3_600_000;

/** Waits for the sink to land what was produced before now; says what is still missing if it times out. */
async function waitForSink(config: AppConfig, groupId: string, topic: string, timeoutMs: number): Promise<void> {
  const admin = createKafkaClient({ ...config.kafka, clientId: 'lake-compact' }).admin();
  await admin.connect();
  try {
    const startedAt = Date.now();
    let last = '';
    const progress = (lag: LandingLag) => {
      const line = lag.behind.length === 0 ? 'caught up' : `${lag.offsets} offset(s) in ${lag.behind.length} partition(s) not landed yet`;
      if (line !== last) console.error(`  sink group ${groupId}: ${line} (${Math.round((Date.now() - startedAt) / 1000)}s)`);
      last = line;
    };
    console.error(`waiting up to ${Math.round(timeoutMs / 1000)}s for the sink to land every ${topic} record produced before now (--no-wait skips)`);
    const lag = await waitForLanding({ admin, groupId, topic, timeoutMs, onProgress: progress });
    if (lag.behind.length > 0) {
      const detail = lag.behind.map((b) => `partition ${b.partition}: committed ${b.committed} < ${b.target}`).join(', ');
      console.error(
        `warning: the sink has not landed everything yet (${detail}); compacting what has landed. ` +
          `A lag of 1 per partition on a transactionally written topic is its last transaction marker. ` +
          `Is the sink running (npm start)? Its SINK_ROTATE_AGE bounds how long a busy partition waits to land.`,
      );
    }
  } finally {
    await admin.disconnect();
  }
}

function describe(event: CompactionProgress): string {
  switch (event.step) {
    case 'inputs':
      return `reading ${event.segments} raw segment(s)${event.lateSegments ? `, ${event.lateSegments} landed after the close` : ''}${event.carriedOverFiles ? `, carrying over ${event.carriedOverFiles} curated file(s) whose raw segments expired` : ''}`;
    case 'decoded':
      return `  [${event.done}/${event.of}] ${event.segment.split('/').pop()}: ${event.rows} rows`;
    case 'written':
      return `wrote ${event.files} Parquet file(s): ${event.rows} rows (${event.duplicatesDropped} duplicates dropped)`;
    case 'uploaded':
      return `  uploaded ${event.key} (${formatBytes(event.bytes)})`;
    case 'switched':
      return `switched ${event.manifestKey}; deleted ${event.deleted} superseded file(s)`;
  }
}

async function main(): Promise<void> {
  const { options } = parseArgs(process.argv.slice(2), ['no-wait']);
  const topic = options.topic;
  const hour = options.hour;
  if (typeof topic !== 'string' || typeof hour !== 'string') {
    throw new Error('usage: npm run lake:compact -- --topic <topic> --hour YYYY-MM-DDTHH (npm run lake:status lists topics and hours)');
  }
  const hourStart = hourStartMillis(hour);
  const { store, config, lakeUrl } = openLake('lake-compact');
  const settings = loadCompactionSettings(process.env);
  const landing = loadLandingSettings(process.env, { defaultLakeUrl: lakeUrl, catalogTopics: allTopics.map((t) => t.name) });
  const timeoutText = typeof options['wait-timeout'] === 'string' ? options['wait-timeout'] : '90s';
  const waitTimeoutMs = parseDurationMs(timeoutText);
  if (waitTimeoutMs === undefined) throw new Error(`--wait-timeout ${timeoutText}: expected a duration such as 90s or 2m`);
  console.error(`${topic} ${hour} in ${lakeUrl}`);
  // The sink closes an hour only after its end plus the allowed lateness; before that it may still hold
  // records of it in open segments.
  const stillOpen = Date.now() < hourStart + HOUR_MS + landing.allowedLatenessMs;
  if (stillOpen && options['no-wait'] !== true) await waitForSink(config, landing.groupId, topic, waitTimeoutMs);
  // Closing writes the raw manifest from the segments landed so far (idempotent); the running sink's
  // own close of the hour later is a no-op, or a re-close when more segments land.
  const landed = (await store.list(rawHourPrefix(topic, hour))).filter((o) => o.key.endsWith('.avro'));
  if (landed.length === 0) {
    throw new Error(`no raw segments under ${lakeUrl}${rawHourPrefix(topic, hour)}: nothing landed for that hour (npm run lake:status lists topics and hours)`);
  }
  const closed = await closeHour(store, topic, hour, { reason: 'manual' });
  console.error(`${closed.changed ? 'closed' : 'already closed'}: ${closed.manifest.files.length} raw segment(s), ${closed.manifest.rows} rows (generation ${closed.manifest.generation})`);
  const result = await runCompaction({ store, registry: config.schemaRegistry, settings, onProgress: (e) => console.error(describe(e)) }, topic, hour);
  const m = result.manifest;
  if (result.status === 'unchanged') console.log(`unchanged: ${topic} ${hour} was already compacted from the same segments (run ${m.compactionId})`);
  else console.log(`compacted ${topic} ${hour}: ${m.rows} rows in ${m.files.length} file(s), ${m.duplicatesDropped} duplicates dropped (run ${m.compactionId})`);
  if (result.expiredRawSegments) console.log(`expired ${result.expiredRawSegments} raw segment(s) past LAKE_RAW_RETENTION`);
  console.log(`query it: npm run query -- "select count(*) from ${topic.replace(/[.-]/g, '_')}"`);
}

main().catch((err) => fail('lake:compact', err, process.env.LAKE_URL));
