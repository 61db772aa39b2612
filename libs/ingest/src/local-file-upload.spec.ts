import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FileObjectStore, type UploadedPart } from '@app/object-store';
import { storeLocalFile } from './local-file-upload';

const work = mkdtempSync(join(tmpdir(), 'local-file-upload-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function fileOf(name: string, bytes: Buffer): string {
  const file = join(work, name);
  writeFileSync(file, bytes);
  return file;
}

/** A file store that records multipart calls and can fail a part or report a wrong digest. */
class RecordingStore extends FileObjectStore {
  readonly calls: string[] = [];
  failPart?: number;
  wrongDigest = false;

  override async put(...args: Parameters<FileObjectStore['put']>) {
    this.calls.push(`put ${args[1].length}`);
    return super.put(...args);
  }

  override async uploadPart(key: string, uploadId: string, part: { partNumber: number; body: Uint8Array; sha256Base64?: string }): Promise<UploadedPart> {
    this.calls.push(`part ${part.partNumber} ${part.body.length}`);
    if (part.partNumber === this.failPart) throw new Error('store unavailable');
    return super.uploadPart(key, uploadId, part);
  }

  override async abortUpload(key: string, uploadId: string): Promise<void> {
    this.calls.push('abort');
    return super.abortUpload(key, uploadId);
  }

  override async storedSha256(key: string): Promise<string | undefined> {
    return this.wrongDigest ? 'AAAA' : super.storedSha256(key);
  }
}

describe('storeLocalFile', () => {
  it('stores a file below the threshold in one request', async () => {
    const store = new RecordingStore(pathToFileURL(join(work, 'lake-small')).toString());
    const bytes = randomBytes(1000);
    const stored = await storeLocalFile(store, 'a/small.bin', fileOf('small.bin', bytes), { multipartThresholdBytes: 1024, partSizeBytes: 512 });
    expect(stored).toEqual({ sizeBytes: 1000, sha256: hex(bytes) });
    expect(store.calls).toEqual(['put 1000']);
    expect(await store.get('a/small.bin')).toEqual(bytes);
  });

  it('streams a file from the threshold by multipart, one part at a time, the last one short', async () => {
    const store = new RecordingStore(pathToFileURL(join(work, 'lake-large')).toString());
    const bytes = randomBytes(2 * 1024 + 100);
    const stored = await storeLocalFile(store, 'a/large.bin', fileOf('large.bin', bytes), { multipartThresholdBytes: 1024, partSizeBytes: 1024 });
    expect(stored).toEqual({ sizeBytes: bytes.length, sha256: hex(bytes), parts: 3 });
    expect(store.calls).toEqual(['part 1 1024', 'part 2 1024', 'part 3 100']);
    expect(await store.get('a/large.bin')).toEqual(bytes);
    // Exactly at the threshold is multipart too.
    const exact = randomBytes(1024);
    expect(await storeLocalFile(store, 'a/exact.bin', fileOf('exact.bin', exact), { multipartThresholdBytes: 1024, partSizeBytes: 1024 })).toEqual({ sizeBytes: 1024, sha256: hex(exact), parts: 1 });
  });

  it('aborts the upload when a part fails, leaving no object', async () => {
    const store = new RecordingStore(pathToFileURL(join(work, 'lake-fail')).toString());
    store.failPart = 2;
    await expect(storeLocalFile(store, 'a/broken.bin', fileOf('broken.bin', randomBytes(3000)), { multipartThresholdBytes: 1024, partSizeBytes: 1024 })).rejects.toThrow('store unavailable');
    expect(store.calls).toEqual(['part 1 1024', 'part 2 1024', 'abort']);
    expect(await store.head('a/broken.bin')).toBeUndefined();
  });

  it('deletes the object and fails when the stored digest does not match', async () => {
    const store = new RecordingStore(pathToFileURL(join(work, 'lake-mismatch')).toString());
    store.wrongDigest = true;
    await expect(storeLocalFile(store, 'a/bad.bin', fileOf('bad.bin', randomBytes(2048)), { multipartThresholdBytes: 1024, partSizeBytes: 1024 })).rejects.toThrow('checksum mismatch after upload of a/bad.bin: stored AAAA');
    expect(await store.head('a/bad.bin')).toBeUndefined();
  });

  it('stores an empty file in one request', async () => {
    const store = new RecordingStore(pathToFileURL(join(work, 'lake-empty')).toString());
    expect(await storeLocalFile(store, 'a/empty.csv', fileOf('empty.csv', Buffer.alloc(0)), { multipartThresholdBytes: 0 })).toEqual({ sizeBytes: 0, sha256: hex(Buffer.alloc(0)) });
    expect(store.calls).toEqual(['put 0']);
  });
});
