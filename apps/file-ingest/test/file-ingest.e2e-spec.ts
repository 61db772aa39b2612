/**
 * file-ingest against the real stack (moto S3 with SSE-KMS, Kafka): 1,000 files including a 200 MiB one
 * whose upload is SIGKILLed mid-way in a child process and resumed by the next run; a second run copies
 * nothing; one changed file is copied alone; inventory CSV rows become stock-count commands on Kafka with
 * a malformed row reported. Run manifests are read back with DuckDB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '@app/config';
import { KafkaStockCountSink, LocalDirectorySource, loadSyncState, pendingUploadKey, syncSource, type FileRunReport, type PendingUpload, type SyncSourceSpec } from '@app/ingest';
import { createKafkaClient } from '@app/kafka';
import { compositeSha256, createObjectStore, supportsResumableUploads, type ObjectStore } from '@app/object-store';
import { readTopic, uniqueName, waitFor } from '@app/testing';
import { utils as sshUtils } from 'ssh2';
import { openFileSource } from '@app/ingest';
import { startReadOnlySftp } from './read-only-sftp-server';

const MIB = 1024 * 1024;
const repoRoot = resolve(__dirname, '../../..');
const config = loadConfig(process.env, { service: 'file-ingest-test', defaultHttpPort: 0 });
const lakeUrl = `s3://${config.objectStore.bucket}/${uniqueName('file-ingest')}/`;
const store: ObjectStore = createObjectStore(lakeUrl, config.objectStore);
const work = mkdtempSync(join(tmpdir(), 'file-ingest-'));
const kafka = createKafkaClient({ ...config.kafka, clientId: 'file-ingest-test' });

afterAll(async () => {
  // moto keeps objects in memory: give the 200 MiB back.
  await store.delete((await store.list('')).map((o) => o.key));
  rmSync(work, { recursive: true, force: true });
});

async function readManifestWithDuckDb(report: FileRunReport): Promise<{ path: string; status: string }[]> {
  const local = join(work, `manifest-${report.runId}.json`);
  writeFileSync(local, await store.get(report.manifestKey));
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    const reader = await connection.runAndReadAll(`select f.path, f.status from (select unnest(files) as f from read_json_auto('${local}')) order by 1`);
    return reader.getRowObjectsJson() as { path: string; status: string }[];
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

describe('file-ingest: 1,000 files with a 200 MiB one killed mid-upload', () => {
  const sourceDir = join(work, 'warehouse');
  const spec: SyncSourceSpec = { name: 'warehouse-exports', include: [], exclude: ['**/*.tmp'], inventoryPatterns: [] };
  const bigPath = 'bulk/stock-snapshot.bin';
  const smallCount = 999;

  beforeAll(() => {
    for (let i = 0; i < smallCount; i++) {
      const dir = join(sourceDir, `day-${String(i % 10).padStart(2, '0')}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `sales-${String(i).padStart(4, '0')}.json`), JSON.stringify({ file: i, pad: 'x'.repeat(100 + (i % 50)) }));
    }
    writeFileSync(join(sourceDir, 'day-00', 'partial.tmp'), 'excluded');
    // 200 MiB quickly: one random MiB, each copy stamped with its index so parts differ.
    mkdirSync(join(sourceDir, 'bulk'), { recursive: true });
    const block = randomBytes(MIB);
    const fd = openSync(join(sourceDir, bigPath), 'w');
    for (let i = 0; i < 200; i++) {
      block.writeUInt32BE(i, 0);
      writeSync(fd, block);
    }
    closeSync(fd);
  });

  let resumed: FileRunReport;

  it('resumes the killed upload with only the missing parts and copies everything once', async () => {
    // Run 1 in a child process, capped at 40 MiB/s so the kill lands mid-upload; killed once parts are saved.
    const child: ChildProcess = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'scripts/ingest/ingest-files.ts', '--source', spec.name, '--from', sourceDir, '--exclude', '**/*.tmp', '--bandwidth', '40MiB/s', '--no-stock-counts'],
      { cwd: repoRoot, env: { ...process.env, LAKE_URL: lakeUrl }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((done) => child.on('exit', (code, signal) => done(signal ?? code)));
    const uploadStateKey = pendingUploadKey(spec.name, bigPath);
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`run 1 ended before the kill (exit ${child.exitCode}): ${stderr.slice(-2000)}`);
          const info = await store.head(uploadStateKey);
          if (!info) return false;
          const upload = JSON.parse((await store.get(uploadStateKey)).toString()) as PendingUpload;
          return upload.parts.length >= 3;
        },
        { timeoutMs: 60_000, intervalMs: 50, what: 'three parts of the large file saved' },
      );
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    const interrupted = JSON.parse((await store.get(uploadStateKey)).toString()) as PendingUpload;
    expect(interrupted.parts.length).toBeGreaterThanOrEqual(3);
    expect(interrupted.parts.length).toBeLessThan(25);
    expect(await store.head(interrupted.key)).toBeUndefined();
    const checkpointed = Object.keys((await loadSyncState(store, spec.name)).files).length;

    // Run 2 resumes: the parts S3 holds are not sent again.
    resumed = await syncSource(spec, { store, source: new LocalDirectorySource(sourceDir) });
    expect(resumed.failed).toBe(0);
    expect(resumed.stockCounts).toEqual({ files: 0, published: 0, malformed: [] });
    expect(resumed.considered).toBe(smallCount + 1);
    expect(resumed.copied + resumed.skipped).toBe(smallCount + 1);
    expect(resumed.skipped).toBe(checkpointed);
    const big = resumed.files.find((f) => f.path === bigPath)!;
    expect(big).toMatchObject({ status: 'copied', size: 200 * MIB, parts: 25, key: interrupted.key });
    expect(big.resumedParts).toBeGreaterThanOrEqual(interrupted.parts.length);
    expect(resumed.bytes).toBeLessThanOrEqual(200 * MIB - interrupted.parts.length * 8 * MIB + smallCount * 200);
    expect(await store.head(uploadStateKey)).toBeUndefined();

    const stored = await store.head(interrupted.key);
    expect(stored).toMatchObject({ size: 200 * MIB });
    // S3 keeps the composite of the parts' sha256: it matches the source file's parts.
    if (!supportsResumableUploads(store)) throw new Error('S3 store without resumable uploads');
    const digests: string[] = [];
    const bigFile = readFileSync(join(sourceDir, bigPath));
    for (let offset = 0; offset < bigFile.length; offset += 8 * MIB) digests.push(createHash('sha256').update(bigFile.subarray(offset, offset + 8 * MIB)).digest('base64'));
    expect((await store.storedSha256(interrupted.key))?.replace(/-\d+$/, '')).toBe(compositeSha256(digests).replace(/-\d+$/, ''));
    const copies = await store.list(`files/${spec.name}/dt=${resumed.dt}/`);
    expect(copies.filter((o) => !o.key.includes('/_manifest-run-')).length).toBe(smallCount + 1);
    expect(copies.some((o) => o.key.endsWith('.tmp'))).toBe(false);
    const state = await loadSyncState(store, spec.name);
    expect(Object.keys(state.files).length).toBe(smallCount + 1);
    expect(state.files[bigPath].sha256).toMatch(/^[0-9a-f]{64}$/);

    const rows = await readManifestWithDuckDb(resumed);
    expect(rows.length).toBe(resumed.copied);
    expect(rows).toContainEqual({ path: bigPath, status: 'copied' });
  }, 120_000);

  it('copies nothing over an unchanged source, then only the one changed file', async () => {
    const again = await syncSource(spec, { store, source: new LocalDirectorySource(sourceDir) });
    expect(again).toMatchObject({ copied: 0, failed: 0, skipped: smallCount + 1, bytes: 0, manifestKey: '' });

    const changed = join(sourceDir, 'day-03', 'sales-0003.json');
    writeFileSync(changed, JSON.stringify({ file: 3, corrected: true }));
    utimesSync(changed, new Date(), new Date(Date.now() + 5_000));
    // Touched but identical: remembered again, not copied.
    utimesSync(join(sourceDir, 'day-04', 'sales-0004.json'), new Date(), new Date(Date.now() + 5_000));
    const third = await syncSource(spec, { store, source: new LocalDirectorySource(sourceDir) });
    expect(third).toMatchObject({ copied: 1, failed: 0, skipped: smallCount });
    expect(third.files.map((f) => f.path)).toEqual(['day-03/sales-0003.json']);
    expect(JSON.parse((await store.get(third.files[0].key!)).toString())).toEqual({ file: 3, corrected: true });
    expect(await readManifestWithDuckDb(third)).toEqual([{ path: 'day-03/sales-0003.json', status: 'copied' }]);
  }, 60_000);
});

describe('file-ingest: warehouse inventory CSVs become stock counts', () => {
  it('publishes SET_ON_HAND per valid row, keyed by sku, and reports the malformed row with file and line', async () => {
    const topic = uniqueName('file-ingest-stock');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const dir = join(work, 'inventory');
    mkdirSync(join(dir, 'berlin'), { recursive: true });
    writeFileSync(join(dir, 'berlin', 'inventory-2026-11-28.csv'), 'sku,warehouseId,onHand\nSKU-1,WH-BER,10\nSKU-2,WH-BER,-3\nSKU-3,WH-BER,30\n');
    writeFileSync(join(dir, 'inventory-hamburg.csv'), 'warehouseId,sku,onHand\r\nWH-HAM,SKU-1,4\r\n');
    writeFileSync(join(dir, 'readme.txt'), 'not a count');
    const sink = new KafkaStockCountSink(kafka, topic);
    const spec: SyncSourceSpec = { name: 'warehouse-counts', include: [], exclude: [], inventoryPatterns: ['**/inventory*.csv'] };
    let report: FileRunReport;
    try {
      report = await syncSource(spec, { store, source: new LocalDirectorySource(dir), stockCounts: sink });
    } finally {
      await sink.close();
    }
    expect(report).toMatchObject({ copied: 3, failed: 0 });
    expect(report.stockCounts).toEqual({ files: 2, published: 3, malformed: [{ file: 'berlin/inventory-2026-11-28.csv', line: 3, reason: expect.stringContaining('onHand "-3"') }] });
    const messages = await readTopic(kafka, topic);
    const commands = messages.map((m) => ({ key: m.key!.toString(), ...JSON.parse(m.value!.toString()) }));
    expect(commands.map(({ requestId: _id, ...rest }) => rest).sort((a, b) => `${a.sku}${a.warehouseId}`.localeCompare(`${b.sku}${b.warehouseId}`))).toEqual([
      { key: 'SKU-1', type: 'SET_ON_HAND', sku: 'SKU-1', warehouseId: 'WH-BER', onHand: 10 },
      { key: 'SKU-1', type: 'SET_ON_HAND', sku: 'SKU-1', warehouseId: 'WH-HAM', onHand: 4 },
      { key: 'SKU-3', type: 'SET_ON_HAND', sku: 'SKU-3', warehouseId: 'WH-BER', onHand: 30 },
    ]);
    expect(new Set(commands.map((c) => c.requestId)).size).toBe(3);
    const manifest = JSON.parse((await store.get(report.manifestKey)).toString()) as FileRunReport;
    expect(manifest.stockCounts.malformed).toEqual(report.stockCounts.malformed);

    // Unchanged files publish nothing again.
    const again = await syncSource(spec, { store, source: new LocalDirectorySource(dir), stockCounts: new KafkaStockCountSink(kafka, topic) });
    expect(again).toMatchObject({ copied: 0, stockCounts: { published: 0 } });
    expect((await readTopic(kafka, topic)).length).toBe(3);
  }, 60_000);
});

describe('file-ingest: a remote SFTP directory', () => {
  it('syncs over SFTP with a key (a multipart file read in ranges), then copies nothing', async () => {
    const root = join(work, 'remote-exports');
    mkdirSync(join(root, 'daily'), { recursive: true });
    writeFileSync(join(root, 'daily', 'sales-1.json'), '{"sales":1}');
    writeFileSync(join(root, 'daily', 'ignore.tmp'), 'no');
    const large = randomBytes(11 * MIB + 3);
    writeFileSync(join(root, 'large.bin'), large);
    const clientKey = sshUtils.generateKeyPairSync('ed25519');
    const keyFile = join(work, 'sftp-client-key');
    writeFileSync(keyFile, clientKey.private, { mode: 0o600 });
    const server = await startReadOnlySftp({ root, user: 'wh', publicKey: clientKey.public, hostKey: sshUtils.generateKeyPairSync('ed25519').private });
    const spec: SyncSourceSpec = { name: 'remote-exports', include: [], exclude: ['**/*.tmp'], inventoryPatterns: [] };
    try {
      const source = () => openFileSource(`sftp://wh@127.0.0.1:${server.port}/`, { privateKeyFile: keyFile });
      const first = source();
      const report = await syncSource(spec, { store, source: first, options: { multipartThresholdBytes: 6 * MIB, partSizeBytes: 5 * MIB } }).finally(() => first.close());
      expect(report).toMatchObject({ copied: 2, failed: 0, location: `sftp://wh@127.0.0.1:${server.port}/` });
      expect(report.files.map((f) => [f.path, f.parts])).toEqual([['daily/sales-1.json', undefined], ['large.bin', 3]]);
      expect(createHash('sha256').update(await store.get(report.files[1].key!)).digest('hex')).toBe(createHash('sha256').update(large).digest('hex'));
      const second = source();
      expect(await syncSource(spec, { store, source: second, options: { multipartThresholdBytes: 6 * MIB, partSizeBytes: 5 * MIB } }).finally(() => second.close())).toMatchObject({ copied: 0, skipped: 2 });
    } finally {
      await server.stop();
    }
  }, 60_000);
});
