// npm run catalog:ddl — Athena/Glue CREATE EXTERNAL TABLE statements for every catalog topic's curated
// table, from the Avro schemas, with partition projection on dt and hour (no crawler, no MSCK REPAIR).
//   --database <name>   Glue database (default securecart_lake)
//   --since YYYY-MM-DD  first day partition projection enumerates (default 2026-01-01)
//   --topic <name>      one topic only
import { allTopics } from '@app/contracts';
import { catalogDdl } from '@app/lake';
import { fail, openLake, parseArgs } from './lake-cli';

function main(): void {
  const { options } = parseArgs(process.argv.slice(2));
  const { lakeUrl } = openLake('catalog-ddl');
  if (!lakeUrl.startsWith('s3://')) {
    console.error(`-- LAKE_URL is ${lakeUrl}: Athena reads S3 only; the statements below use it as given.`);
  }
  const since = typeof options.since === 'string' ? options.since : '2026-01-01';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(since)) throw new Error(`--since ${since}: expected YYYY-MM-DD`);
  const topics = typeof options.topic === 'string' ? allTopics.filter((t) => t.name === options.topic) : allTopics;
  if (topics.length === 0) throw new Error(`--topic ${String(options.topic)} is not in the topic catalog (libs/contracts)`);
  const database = typeof options.database === 'string' ? options.database : 'securecart_lake';
  console.log(`CREATE DATABASE IF NOT EXISTS \`${database}\`;\n`);
  for (const topic of topics) {
    console.log(catalogDdl(topic.name, topic.schema, { lakeUrl, database, projectionStartDay: since }) + '\n');
  }
}

try {
  main();
} catch (err) {
  fail('catalog:ddl', err);
}
