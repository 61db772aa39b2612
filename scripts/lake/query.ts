// npm run query -- "<SQL>" — DuckDB over the curated lake: one view per topic (dots and dashes become
// underscores: orders_order_placed_v1), Hive partition columns dt and hour. Only the files the hours'
// manifests name are read; a lake on S3 is fetched into .lake-cache/ first (LAKE_QUERY_CACHE).
//   --json      one JSON object per row instead of a table
//   --tables    list the views and what they hold
//   --from YYYY-MM-DDTHH / --to YYYY-MM-DDTHH   only these hours (inclusive): less to fetch from S3
import { resolve } from 'node:path';
import { LakeQuery } from '@app/lake';
import { fail, formatTable, openLake, parseArgs } from './lake-cli';

async function main(): Promise<void> {
  const { options, positional } = parseArgs(process.argv.slice(2), ['json', 'tables']);
  const sql = positional.join(' ').trim();
  const { store, lakeUrl } = openLake('lake-query');
  const cacheDir = resolve(process.env.LAKE_QUERY_CACHE ?? '.lake-cache');
  const hourOption = (name: string): string | undefined => {
    const value = options[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}$/.test(value)) throw new Error(`--${name} expects an hour, e.g. 2026-11-28T05`);
    return value;
  };
  const query = await LakeQuery.open(store, { cacheDir, fromHour: hourOption('from'), toHour: hourOption('to'), onProgress: (m) => console.error(m) });
  try {
    if (options.tables || !sql) {
      const topics = await query.topics();
      if (topics.length === 0) {
        console.error(`No compacted hours in ${lakeUrl}curated/ yet. Compact one: npm run lake:compact -- --topic <topic> --hour YYYY-MM-DDTHH (npm run lake:status lists the closed hours).`);
      } else {
        console.log(formatTable(['view', 'topic', 'hours', 'rows'], topics.map((t) => [t.view, t.topic, t.hours, t.rows])));
      }
      if (!sql) console.error('\nUsage: npm run query -- "select count(*) from orders_order_placed_v1"');
      return;
    }
    let views = await query.prepare(sql);
    console.error(`lake ${lakeUrl}: ${views.map((v) => `${v.view} (${v.hours} hours, ${v.rows} rows)`).join(', ') || 'no topic views referenced'}`);
    let result;
    try {
      try {
        result = await query.run(sql);
      } catch (err) {
        // A re-compaction switched an hour's manifest and deleted the files this view named: read the
        // manifests again, once.
        if (!/No files found|No such file|Cannot open file/i.test((err as Error).message)) throw err;
        console.error('an hour was re-compacted while reading; reading the manifests again');
        views = await query.prepare(sql);
        result = await query.run(sql);
      }
    } catch (err) {
      const message = (err as Error).message;
      if (/Table with name (\S+) does not exist/i.test(message)) {
        throw new Error(`${message}\nNo compacted data for that name. npm run query -- --tables lists the views; npm run lake:status shows which hours are closed and compacted.`);
      }
      throw err;
    }
    if (options.json) for (const row of result.rows) console.log(JSON.stringify(Object.fromEntries(result.columns.map((c, i) => [c, row[i]]))));
    else {
      console.log(formatTable(result.columns, result.rows));
      console.error(`(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`);
    }
  } finally {
    query.close();
  }
}

main().catch((err) => fail('query', err, process.env.LAKE_URL));
