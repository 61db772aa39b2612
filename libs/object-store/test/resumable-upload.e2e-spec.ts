/**
 * Resumable multipart uploads on both lake stores against real storage (moto S3, a temp directory):
 * a second store instance — another process after a crash — finds the parts the first one sent and
 * finishes the upload with only the missing ones.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '@app/config';
import { compositeSha256, createObjectStore, objectStoreTestDefaults, supportsResumableUploads, type ObjectStore, type ResumableUploads } from '@app/object-store';
import { uniqueName } from '@app/testing';

const config = loadConfig(process.env, { service: 'object-store-test', defaultHttpPort: 0 }).objectStore;
const tempDir = mkdtempSync(join(tmpdir(), 'lake-mpu-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

const MIB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('base64');

describe.each([
  ['s3', (root: string) => createObjectStore(`s3://${config.bucket}/${root}/`, config, objectStoreTestDefaults)],
  ['file', (root: string) => createObjectStore(pathToFileURL(join(tempDir, root)).toString(), config)],
] as const)('%s resumable uploads', (kind, make) => {
  const root = uniqueName('mpu');
  const open = (): ObjectStore & ResumableUploads => {
    const store = make(root);
    if (!supportsResumableUploads(store)) throw new Error(`${kind} store has no resumable uploads`);
    return store;
  };

  afterAll(async () => {
    const store = open();
    await store.delete((await store.list('')).map((o) => o.key));
  });

  it('resumes from the parts another instance sent, completes, and reports a digest that matches', async () => {
    const parts = [randomBytes(5 * MIB), randomBytes(5 * MIB), randomBytes(123)];
    const key = 'files/src/dt=2026-11-28/big.bin';
    const first = open();
    const uploadId = await first.createUpload(key);
    await first.uploadPart(key, uploadId, { partNumber: 1, body: parts[0], sha256Base64: sha(parts[0]) });
    await first.uploadPart(key, uploadId, { partNumber: 2, body: parts[1], sha256Base64: sha(parts[1]) });
    expect(await first.head(key)).toBeUndefined();

    const second = open();
    const held = await second.listParts(key, uploadId);
    expect(held!.map((p) => [p.partNumber, p.size])).toEqual([[1, 5 * MIB], [2, 5 * MIB]]);
    const last = await second.uploadPart(key, uploadId, { partNumber: 3, body: parts[2], sha256Base64: sha(parts[2]) });
    const done = await second.completeUpload(key, uploadId, [...held!.map((p) => ({ ...p, sha256Base64: sha(parts[p.partNumber - 1]) })), last]);
    if (kind === 's3') expect(done.serverSideEncryption).toBe('aws:kms');

    const whole = Buffer.concat(parts);
    expect(sha(await second.get(key))).toBe(sha(whole));
    const stored = await second.storedSha256(key);
    const expected = kind === 's3' ? compositeSha256(parts.map(sha)).replace(/-\d+$/, '') : sha(whole);
    expect(stored?.replace(/-\d+$/, '')).toBe(expected);
    expect(await second.listParts(key, uploadId)).toBeUndefined();
  });

  it('aborts an upload (twice is fine) and its parts are gone', async () => {
    const store = open();
    const key = 'files/src/dt=2026-11-28/aborted.bin';
    const uploadId = await store.createUpload(key);
    await store.uploadPart(key, uploadId, { partNumber: 1, body: Buffer.from('x') });
    await store.abortUpload(key, uploadId);
    await store.abortUpload(key, uploadId);
    expect(await store.listParts(key, uploadId)).toBeUndefined();
    expect((await store.list('')).map((o) => o.key)).not.toContain(key);
  });
});

describe('compositeSha256', () => {
  it('is the digest of the parts\' digests with the part count', () => {
    const a = Buffer.from('a');
    const b = Buffer.from('b');
    const expected = createHash('sha256').update(Buffer.concat([createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest()])).digest('base64');
    expect(compositeSha256([sha(a), sha(b)])).toBe(`${expected}-2`);
  });
});
