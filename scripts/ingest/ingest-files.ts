// npm run ingest:files -- --source <name> [--from <dir|file:///dir|sftp://user@host:port/dir>]
//   [--include 'a/**,*.csv'] [--exclude '**/*.tmp'] [--inventory '**/inventory*.csv'] [--bandwidth 10MiB/s]
//   [--key-file ~/.ssh/id_ed25519] [--no-stock-counts] [--json]
// One sync run of a source into files/<source>/dt=YYYY-MM-DD/ in the lake (LAKE_URL): only new or changed
// files, verified, large ones by resumable multipart; prints the run report and writes it as a manifest.
// Without --from the source comes from FILE_INGEST_SOURCES (the file-ingest app's configuration).
// Exit: 0 all copied, 2 some files failed, 1 the run failed, 78 bad configuration.
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from '@app/config';
import { createKafkaClient } from '@app/kafka';
import { formatRunReport, KafkaStockCountSink, loadIngestSettings, openFileSource, sourceDefinition, syncSource, type SourceDefinition } from '@app/ingest';
import { createObjectStore } from '@app/object-store';
import { fail, parseArgs } from '../lake/lake-cli';

const list = (value: string | true | undefined): string[] | undefined =>
  typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : undefined;

async function main(): Promise<number> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const { options } = parseArgs(process.argv.slice(2));
  const config = loadConfig(process.env, { service: 'file-ingest', defaultHttpPort: 0 });
  const settings = loadIngestSettings(process.env, config.objectStore.bucket);
  const name = options.source;
  if (typeof name !== 'string') throw new ConfigError([{ variable: '--source', message: 'name the source: --source <name>' }]);
  const configured = settings.sources.find((s) => s.name === name);
  let source: SourceDefinition;
  try {
    source = sourceDefinition({
      name,
      from: typeof options.from === 'string' ? options.from : (configured?.from ?? ''),
      include: list(options.include) ?? (configured && [...configured.include]),
      exclude: list(options.exclude) ?? (configured && [...configured.exclude]),
      inventory: list(options.inventory) ?? (configured && [...configured.inventoryPatterns]),
      bandwidth: typeof options.bandwidth === 'string' ? options.bandwidth : configured?.bandwidthBytesPerSecond,
      privateKeyFile: typeof options['key-file'] === 'string' ? options['key-file'] : configured?.privateKeyFile,
      hostKeySha256: configured?.hostKeySha256,
    });
  } catch (err) {
    throw new ConfigError([{ variable: configured ? 'FILE_INGEST_SOURCES' : '--from', message: `${(err as Error).message}${configured ? '' : ' (no source of that name in FILE_INGEST_SOURCES: give --from)'}` }]);
  }
  const store = createObjectStore(settings.lakeUrl, config.objectStore);
  const files = openFileSource(source.from, { privateKeyFile: source.privateKeyFile, password: settings.sftpPassword, hostKeySha256: source.hostKeySha256 });
  const stockCounts = options['no-stock-counts'] ? undefined : new KafkaStockCountSink(createKafkaClient(config.kafka), settings.stockCountTopic);
  try {
    const report = await syncSource(source, {
      store,
      source: files,
      stockCounts,
      options: { concurrency: settings.concurrency, partSizeBytes: settings.partSizeBytes },
      log: (message, fields) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), message, ...fields })}\n`),
    });
    console.log(options.json ? JSON.stringify(report) : formatRunReport(report));
    return report.failed > 0 ? 2 : 0;
  } finally {
    await files.close();
    await stockCounts?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => fail('ingest:files', err, process.env.LAKE_URL),
);
