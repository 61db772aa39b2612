// npm run lake:compact -- --topic <topic> --hour 2026-11-28T05 — closes the hour now (writes its raw
// manifest from the segments landed so far) and compacts it to curated Parquet. Idempotent: a second
// run with nothing new changes nothing. For operators and backfills; the sink does the same by itself.
import { closeHour, hourStartMillis, rawHourPrefix, loadCompactionSettings, runCompaction, type CompactionProgress } from '@app/lake';
import { fail, formatBytes, openLake, parseArgs } from './lake-cli';

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
  const { options } = parseArgs(process.argv.slice(2));
  const topic = options.topic;
  const hour = options.hour;
  if (typeof topic !== 'string' || typeof hour !== 'string') {
    throw new Error('usage: npm run lake:compact -- --topic <topic> --hour YYYY-MM-DDTHH (npm run lake:status lists topics and hours)');
  }
  hourStartMillis(hour);
  const { store, config, lakeUrl } = openLake('lake-compact');
  const settings = loadCompactionSettings(process.env);
  console.error(`${topic} ${hour} in ${lakeUrl}`);
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
