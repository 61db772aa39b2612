/**
 * Both object stores against real storage: moto S3 from the local stack (SSE-KMS, If-None-Match,
 * multipart) and a temp directory; S3 failures come from a fault proxy, never a mock.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '@app/config';
import {
  createObjectStore,
  createS3Client,
  ObjectExistsError,
  ObjectNotFoundError,
  ObjectStoreUnavailableError,
  objectStoreTestDefaults,
  type ObjectStore,
} from '@app/object-store';
import { S3FaultProxy, uniqueName } from '@app/testing';

const config = loadConfig(process.env, { service: 'object-store-test', defaultHttpPort: 0 }).objectStore;
const tempDir = mkdtempSync(join(tmpdir(), 'lake-'));

afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

const stores: [string, () => ObjectStore][] = [
  ['s3', () => createObjectStore(`s3://${config.bucket}/${uniqueName('os-test')}/`, config, objectStoreTestDefaults)],
  ['file', () => createObjectStore(pathToFileURL(join(tempDir, uniqueName('os-test'))).toString(), config)],
];

describe.each(stores)('%s object store', (kind, make) => {
  let store: ObjectStore;
  beforeAll(() => {
    store = make();
  });

  it('writes, reads, heads, lists sorted and deletes', async () => {
    await store.put('raw/t/dt=2026-11-28/hour=05/b.avro', Buffer.from('bee'));
    await store.put('raw/t/dt=2026-11-28/hour=05/a.avro', Buffer.from('a'));
    await store.put('raw/t/dt=2026-11-28/hour=06/c.avro', Buffer.from('cc'));
    expect((await store.get('raw/t/dt=2026-11-28/hour=05/b.avro')).toString()).toBe('bee');
    expect(await store.head('raw/t/dt=2026-11-28/hour=05/b.avro')).toMatchObject({ size: 3 });
    expect(await store.head('raw/t/missing')).toBeUndefined();
    await expect(store.get('raw/t/missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect((await store.list('raw/t/dt=2026-11-28/hour=05/')).map((o) => o.key)).toEqual([
      'raw/t/dt=2026-11-28/hour=05/a.avro',
      'raw/t/dt=2026-11-28/hour=05/b.avro',
    ]);
    expect((await store.list('raw/t/dt=2026-11-28/hour=0')).length).toBe(3);
    await store.delete(['raw/t/dt=2026-11-28/hour=05/a.avro', 'raw/t/never-existed']);
    expect((await store.list('raw/t/')).map((o) => o.key)).toEqual([
      'raw/t/dt=2026-11-28/hour=05/b.avro',
      'raw/t/dt=2026-11-28/hour=06/c.avro',
    ]);
  });

  it('creates exclusively with ifNoneMatch and leaves the first body', async () => {
    await store.put('x/once.json', Buffer.from('first'), { ifNoneMatch: true });
    await expect(store.put('x/once.json', Buffer.from('second'), { ifNoneMatch: true })).rejects.toBeInstanceOf(
      ObjectExistsError,
    );
    expect((await store.get('x/once.json')).toString()).toBe('first');
    await store.put('x/once.json', Buffer.from('replaced'));
    expect((await store.get('x/once.json')).toString()).toBe('replaced');
  });

  if (kind === 'file') {
    it('leaves no temp files behind', async () => {
      await store.put('y/z.bin', Buffer.alloc(1000, 1));
      const dir = new URL('y/', store.url);
      expect(readdirSync(dir)).toEqual(['z.bin']);
    });
  }
});

describe('s3 object store', () => {
  it('encrypts every object with SSE-KMS, multipart included', async () => {
    const store = createObjectStore(`s3://${config.bucket}/${uniqueName('os-sse')}/`, config, {
      ...objectStoreTestDefaults,
      multipartThresholdBytes: 6 * 1024 * 1024,
      partSizeBytes: 5 * 1024 * 1024,
    });
    const small = await store.put('small.bin', Buffer.alloc(10, 7));
    const big = Buffer.alloc(11 * 1024 * 1024, 3);
    const large = await store.put('large.bin', big);
    expect(small.serverSideEncryption).toBe('aws:kms');
    expect(large.serverSideEncryption).toBe('aws:kms');
    for (const key of ['small.bin', 'large.bin']) {
      expect((await store.head(key))?.serverSideEncryption).toBe('aws:kms');
    }
    expect((await store.get('large.bin')).equals(big)).toBe(true);
  });

  describe('behind a failing S3', () => {
    const proxy = new S3FaultProxy(config.endpoint);
    let store: ObjectStore;
    let prefix: string;
    beforeAll(async () => {
      const endpoint = await proxy.start();
      prefix = uniqueName('os-fault');
      store = createObjectStore(`s3://${config.bucket}/${prefix}/`, { ...config, endpoint }, {
        ...objectStoreTestDefaults,
        multipartThresholdBytes: 6 * 1024 * 1024,
        partSizeBytes: 5 * 1024 * 1024,
      });
    });
    afterEach(() => proxy.heal());
    afterAll(() => proxy.stop());

    it('retries 503s with backoff and succeeds when S3 recovers within the attempts', async () => {
      let failures = 2;
      proxy.setRule(() => (failures-- > 0 ? { status: 503, code: 'SlowDown' } : 'pass'));
      await store.put('retried.txt', Buffer.from('ok'));
      expect((await store.get('retried.txt')).toString()).toBe('ok');
    });

    it('surfaces ObjectStoreUnavailableError after its attempts when S3 stays down', async () => {
      proxy.failAll(500, 'InternalError');
      const before = proxy.stats.failed;
      await expect(store.put('down.txt', Buffer.from('x'))).rejects.toBeInstanceOf(ObjectStoreUnavailableError);
      expect(proxy.stats.failed - before).toBe(objectStoreTestDefaults.maxAttempts);
    });

    it('aborts a multipart upload whose part keeps failing', async () => {
      proxy.setRule((req) =>
        req.method === 'PUT' && req.url.includes('partNumber=2') ? { status: 503, code: 'SlowDown' } : 'pass',
      );
      await expect(store.put('mp.bin', Buffer.alloc(11 * 1024 * 1024, 1))).rejects.toBeInstanceOf(
        ObjectStoreUnavailableError,
      );
      proxy.heal();
      expect(await store.head('mp.bin')).toBeUndefined();
      const s3 = createS3Client(config);
      try {
        const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: config.bucket, Prefix: `${prefix}/` }));
        expect(uploads.Uploads ?? []).toEqual([]);
      } finally {
        s3.destroy();
      }
    });
  });
});
