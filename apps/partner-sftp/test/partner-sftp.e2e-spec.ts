/**
 * The partner SFTP drop against the real stack with OpenSSH's own client (`/usr/bin/sftp -b`): an upload
 * lands SSE-KMS under partners/<partner>/dt=…/ and is announced on Kafka (Avro via the registry); an
 * unknown key, a path leaving the home, a symlink out of the home and an oversized file are refused and
 * logged, and leave nothing in the lake or outside the home.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { RegistryCodec, createSchemaRegistry } from '@app/codec';
import { loadConfig } from '@app/config';
import { topics, type PartnerFileReceived } from '@app/contracts';
import { ensureHostKey, KafkaPartnerFileAnnouncer, loadPartnerKeys, PartnerSftpServer } from '@app/ingest';
import { createKafkaClient } from '@app/kafka';
import { compositeSha256, createObjectStore, supportsResumableUploads } from '@app/object-store';
import { readTopic, uniqueName } from '@app/testing';

const config = loadConfig(process.env, { service: 'partner-sftp-test', defaultHttpPort: 0 });
const work = mkdtempSync(join(tmpdir(), 'partner-sftp-'));
const store = createObjectStore(`s3://${config.objectStore.bucket}/${uniqueName('partner-sftp')}/`, config.objectStore);
const kafka = createKafkaClient({ ...config.kafka, clientId: 'partner-sftp-test' });
const codec = new RegistryCodec(createSchemaRegistry(config.schemaRegistry), { autoRegister: true });
const topic = uniqueName('partner-files');
const announcer = new KafkaPartnerFileAnnouncer(kafka, codec, topic);
const logs: { level: string; message: string; fields: Record<string, unknown> }[] = [];
const MAX = 64 * 1024;

function keyPair(name: string): string {
  const file = join(work, 'client-keys', name);
  mkdirSync(join(work, 'client-keys'), { recursive: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
  return file;
}

const keysDir = join(work, 'partner-keys');
const homesDir = join(work, 'homes');
const acmeKey = keyPair('acme');
const globexKey = keyPair('globex');
const strangerKey = keyPair('stranger');
mkdirSync(keysDir, { recursive: true });
writeFileSync(join(keysDir, 'acme-pay.pub'), readFileSync(`${acmeKey}.pub`));
writeFileSync(join(keysDir, 'globex.pub'), readFileSync(`${globexKey}.pub`));

const server = new PartnerSftpServer({
  host: '127.0.0.1',
  port: 0,
  hostKey: ensureHostKey(join(work, 'host', 'ssh_host_ed25519_key')),
  partnerKeys: () => loadPartnerKeys(keysDir, undefined),
  homesDir,
  maxFileBytes: MAX,
  store,
  announce: (file) => announcer.announce(file),
  log: {
    info: (message, fields = {}) => logs.push({ level: 'info', message, fields }),
    warn: (message, fields = {}) => logs.push({ level: 'warn', message, fields }),
  },
});
let port = 0;

// The same drop with a low multipart threshold: a 12 MiB upload is streamed to S3 in 5 MiB parts.
const MIB = 1024 * 1024;
const streamingServer = new PartnerSftpServer({
  host: '127.0.0.1',
  port: 0,
  hostKey: ensureHostKey(join(work, 'host', 'ssh_host_ed25519_key')),
  partnerKeys: () => loadPartnerKeys(keysDir, undefined),
  homesDir,
  maxFileBytes: 64 * MIB,
  multipartThresholdBytes: 5 * MIB,
  partSizeBytes: 5 * MIB,
  store,
  announce: (file) => announcer.announce(file),
  log: {
    info: (message, fields = {}) => logs.push({ level: 'info', message, fields }),
    warn: (message, fields = {}) => logs.push({ level: 'warn', message, fields }),
  },
});
let streamingPort = 0;

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  port = await server.start();
  streamingPort = await streamingServer.start();
});

afterAll(async () => {
  await server.stop();
  await streamingServer.stop();
  await announcer.close();
  await store.delete((await store.list('')).map((o) => o.key));
  rmSync(work, { recursive: true, force: true });
});

/**
 * Runs OpenSSH sftp in batch mode (aborts at the first failing command), as `user` with `key`. Async:
 * the server runs in this process, so a synchronous spawn would block it.
 */
function sftp(user: string, key: string, commands: string[], serverPort = port): Promise<{ status: number | null; output: string }> {
  const batch = join(work, `batch-${randomBytes(4).toString('hex')}`);
  writeFileSync(batch, commands.join('\n') + '\n');
  const child = spawn(
    '/usr/bin/sftp',
    ['-b', batch, '-i', key, '-P', String(serverPort), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'PasswordAuthentication=no', '-o', 'LogLevel=ERROR', `${user}@127.0.0.1`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    }),
  );
}

const refusals = (reason: string) => logs.filter((l) => l.message === 'sftp refused' && l.fields.reason === reason);
const today = () => new Date().toISOString().slice(0, 10);

describe('partner SFTP drop', () => {
  it('stores an upload SSE-KMS under partners/<partner>/dt=…/ and announces it on Kafka', async () => {
    const local = join(work, 'settlement.csv');
    const body = 'settlementId,amount,currency\nS-1,100.00,EUR\nS-2,12.34,EUR\n';
    writeFileSync(local, body);
    const run = await sftp('acme-pay', acmeKey, ['pwd', `put ${local} /settlement-2026-11-27.csv`, 'mkdir reports', `put ${local} reports/weekly.csv`, 'ls']);
    expect(run).toMatchObject({ status: 0 });
    expect(run.output).toContain('Remote working directory: /');

    const dt = today();
    const keys = (await store.list('partners/')).map((o) => o.key);
    expect(keys).toEqual([`partners/acme-pay/dt=${dt}/reports/weekly.csv`, `partners/acme-pay/dt=${dt}/settlement-2026-11-27.csv`]);
    expect((await store.get(`partners/acme-pay/dt=${dt}/settlement-2026-11-27.csv`)).toString()).toBe(body);
    expect(await store.head(`partners/acme-pay/dt=${dt}/settlement-2026-11-27.csv`)).toMatchObject({ serverSideEncryption: 'aws:kms' });
    // Stored, so no longer staged in the home.
    expect(readdirSync(join(homesDir, 'acme-pay', 'reports'))).toEqual([]);

    const messages = await readTopic(kafka, topic);
    const deserializer = codec.deserializerFor<PartnerFileReceived>(topics.partnerFileReceived.schema);
    const events = await Promise.all(messages.map((m) => deserializer.decode(m.value!)));
    expect(messages.map((m) => m.key!.toString())).toEqual(['acme-pay', 'acme-pay']);
    const sha256 = createHash('sha256').update(body).digest('hex');
    expect(events.find((e) => e.fileName === 'settlement-2026-11-27.csv')).toMatchObject({
      producer: 'partner-sftp',
      partner: 'acme-pay',
      lakeKey: `partners/acme-pay/dt=${dt}/settlement-2026-11-27.csv`,
      sizeBytes: body.length,
      sha256,
    });
    expect(events[0].correlationId).toBe(events[1].correlationId);
  });

  it('refuses an unknown key, and a partner name with no keys, at login', async () => {
    const before = logs.length;
    expect((await sftp('acme-pay', strangerKey, ['pwd'])).status).not.toBe(0);
    expect((await sftp('nobody', strangerKey, ['pwd'])).status).not.toBe(0);
    const fresh = logs.slice(before).filter((l) => l.message === 'sftp refused').map((l) => [l.fields.partner, l.fields.reason]);
    expect(fresh).toEqual(expect.arrayContaining([['acme-pay', 'unknown-key'], ['nobody', 'unknown-partner']]));
    expect(logs.slice(before).some((l) => l.message === 'partner connected')).toBe(false);
  });

  it('refuses paths that leave the home, symlinks out of it, reads and oversized files, and keeps nothing of them', async () => {
    const local = join(work, 'small.csv');
    writeFileSync(local, 'a,b\n1,2\n');
    const outside = join(work, 'outside');
    mkdirSync(outside, { recursive: true });
    mkdirSync(join(homesDir, 'globex'), { recursive: true });
    symlinkSync(outside, join(homesDir, 'globex', 'escape'));
    const big = join(work, 'big.bin');
    writeFileSync(big, randomBytes(MAX + 1024));

    expect((await sftp('globex', globexKey, [`put ${local} ../acme-pay/planted.csv`])).status).not.toBe(0);
    expect(refusals('path-traversal').map((l) => l.fields.partner)).toContain('globex');

    expect((await sftp('globex', globexKey, [`put ${local} escape/planted.csv`])).status).not.toBe(0);
    expect(refusals('symlink-out-of-home').map((l) => l.fields.path)).toContain('/escape/planted.csv');
    expect(readdirSync(outside)).toEqual([]);

    expect((await sftp('globex', globexKey, [`get /escape ${join(work, 'stolen')}`])).status).not.toBe(0);

    expect((await sftp('globex', globexKey, [`put ${big} big.bin`])).status).not.toBe(0);
    expect(refusals('oversized').map((l) => [l.fields.partner, l.fields.path])).toContainEqual(['globex', '/big.bin']);
    expect(readdirSync(join(homesDir, 'globex')).filter((n) => n !== 'escape')).toEqual([]);

    expect((await store.list('partners/globex/')).length).toBe(0);
    expect((await store.list('partners/acme-pay/')).map((o) => o.key).some((k) => k.includes('planted'))).toBe(false);
    // A file within the limit still goes through on the same drop.
    expect((await sftp('globex', globexKey, [`put ${local} ok.csv`])).status).toBe(0);
    expect((await store.list('partners/globex/')).map((o) => o.key)).toEqual([`partners/globex/dt=${today()}/ok.csv`]);
  });

  it('streams a large upload to S3 by multipart, checked part by part, and announces the whole file\'s sha256', async () => {
    const local = join(work, 'settlement-large.bin');
    const body = randomBytes(12 * MIB + 3);
    writeFileSync(local, body);
    expect(await sftp('acme-pay', acmeKey, ['mkdir large', `put ${local} large/settlement-large.bin`], streamingPort)).toMatchObject({ status: 0 });

    const lakeKey = `partners/acme-pay/dt=${today()}/large/settlement-large.bin`;
    expect(await store.head(lakeKey)).toMatchObject({ size: body.length, serverSideEncryption: 'aws:kms' });
    expect(createHash('sha256').update(await store.get(lakeKey)).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    // S3 keeps the composite checksum of a multipart object: three 5 MiB-or-less parts.
    if (!supportsResumableUploads(store)) throw new Error('S3 store without multipart');
    const partDigests = [0, 5 * MIB, 10 * MIB].map((o) => createHash('sha256').update(body.subarray(o, o + 5 * MIB)).digest('base64'));
    // (moto leaves out the `-<parts>` suffix AWS adds)
    expect((await store.storedSha256(lakeKey))?.replace(/-\d+$/, '')).toBe(compositeSha256(partDigests).replace(/-\d+$/, ''));
    expect(logs.find((l) => l.message === 'partner file stored' && l.fields.lakeKey === lakeKey)?.fields).toMatchObject({ parts: 3, sizeBytes: body.length });
    expect(readdirSync(join(homesDir, 'acme-pay', 'large'))).toEqual([]);

    const deserializer = codec.deserializerFor<PartnerFileReceived>(topics.partnerFileReceived.schema);
    const events = await Promise.all((await readTopic(kafka, topic)).map((m) => deserializer.decode(m.value!)));
    expect(events.find((e) => e.lakeKey === lakeKey)).toMatchObject({ partner: 'acme-pay', sizeBytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  });
});
