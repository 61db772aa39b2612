// npm run lake:status — per topic: open hours (landing), closed hours waiting for compaction,
// compacted hours (stale: late segments wait for a re-compaction), rows, files, and how long ago the
// newest closed hour ended.   --hours  one line per hour too;  --json  machine-readable
import { lakeStatus } from '@app/lake';
import { fail, formatAge, formatBytes, formatTable, openLake, parseArgs } from './lake-cli';

async function main(): Promise<void> {
  const { options } = parseArgs(process.argv.slice(2), ['json', 'hours']);
  const { store, lakeUrl } = openLake('lake-status');
  console.error(`reading ${lakeUrl} ...`);
  const topics = await lakeStatus(store);
  if (options.json) {
    console.log(JSON.stringify(topics, null, 2));
    return;
  }
  if (topics.length === 0) {
    console.log(`The lake at ${lakeUrl} is empty: start the sink (npm start, or npm run start:s3-sink) and produce some events.`);
    return;
  }
  console.log(
    formatTable(
      ['topic', 'open', 'closed', 'compacted', 'stale', 'rows', 'files', 'size', 'newest closed hour'],
      topics.map((t) => [
        t.topic,
        t.open,
        t.closed,
        t.compacted,
        t.stale,
        t.rows,
        t.files,
        formatBytes(t.bytes),
        t.newestClosedHour ? `${t.newestClosedHour} (ended ${formatAge(t.newestClosedAgeMs!)})` : '-',
      ]),
    ),
  );
  if (options.hours) {
    for (const t of topics) {
      console.log(`\n${t.topic}`);
      console.log(
        formatTable(
          ['hour', 'state', 'raw segments', 'raw rows', 'curated rows', 'files'],
          t.hours.map((h) => [h.hour, h.state, h.rawSegments, h.rawRows ?? '-', h.curatedRows ?? '-', h.curatedFiles ?? '-']),
        ),
      );
    }
  }
  const waiting = topics.flatMap((t) => t.hours.filter((h) => h.state === 'closed' || h.state === 'stale').map((h) => `${t.topic} ${h.hour}`));
  if (waiting.length > 0) {
    console.log(`\n${waiting.length} hour(s) wait for compaction (the sink compacts them; now: npm run lake:compact -- --topic <topic> --hour <hour>), e.g. ${waiting[0]}`);
  }
}

main().catch((err) => fail('lake:status', err, process.env.LAKE_URL));
