import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { compositeSha256, supportsResumableUploads, type ObjectStore, type UploadedPart } from '@app/object-store';
import { ingestDefaults } from './ingest-defaults';

export interface StoredLocalFile {
  sizeBytes: number;
  /** Hex sha256 of the whole file. */
  sha256: string;
  /** Parts of the multipart upload; undefined when it went in one request. */
  parts?: number;
}

export interface LocalFileUploadOptions {
  multipartThresholdBytes?: number;
  partSizeBytes?: number;
  contentType?: string;
}

const sha256Base64 = (body: Uint8Array) => createHash('sha256').update(body).digest('base64');
const withoutPartCount = (checksum: string) => checksum.replace(/-\d+$/, '');

/** Reads exactly `length` bytes at `position`; a file that shrank meanwhile is an error, not a short part. */
async function readExactly(handle: fs.FileHandle, length: number, position: number, file: string): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new Error(`${file} shrank while it was stored`);
    filled += bytesRead;
  }
  return buffer;
}

/**
 * Stores a local file under `key` without holding it in memory: below the multipart threshold in one
 * request (the threshold bounds what is read), above it by multipart read part by part, so memory is one
 * part whatever the file's size. Every request carries its sha256 for S3 to check; afterwards the digest
 * the store keeps (S3's composite of the parts for multipart) must match, else the object is deleted and
 * the upload fails. A failed multipart upload is aborted, leaving no parts behind.
 */
export async function storeLocalFile(store: ObjectStore, key: string, file: string, options: LocalFileUploadOptions = {}): Promise<StoredLocalFile> {
  const threshold = options.multipartThresholdBytes ?? ingestDefaults.multipartThresholdBytes;
  const partSize = options.partSizeBytes ?? ingestDefaults.partSizeBytes;
  const handle = await fs.open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    if (size < threshold || size === 0 || !supportsResumableUploads(store)) {
      const body = await readExactly(handle, size, 0, file);
      const digest = sha256Base64(body);
      await store.put(key, body, { sha256Base64: digest, contentType: options.contentType });
      return { sizeBytes: size, sha256: Buffer.from(digest, 'base64').toString('hex') };
    }
    const uploadId = await store.createUpload(key, { contentType: options.contentType });
    const whole = createHash('sha256');
    const partDigests: string[] = [];
    const parts: UploadedPart[] = [];
    try {
      for (let offset = 0, partNumber = 1; offset < size; offset += partSize, partNumber++) {
        const body = await readExactly(handle, Math.min(partSize, size - offset), offset, file);
        whole.update(body);
        const digest = sha256Base64(body);
        partDigests.push(digest);
        parts.push(await store.uploadPart(key, uploadId, { partNumber, body, sha256Base64: digest }));
      }
      await store.completeUpload(key, uploadId, parts);
    } catch (err) {
      await store.abortUpload(key, uploadId).catch(() => undefined);
      throw err;
    }
    const wholeDigest = whole.digest('base64');
    const stored = await store.storedSha256(key);
    // S3 keeps the composite; a store computing the object's own digest (files) gives the whole one.
    if (stored !== undefined && withoutPartCount(stored) !== withoutPartCount(compositeSha256(partDigests)) && stored !== wholeDigest) {
      await store.delete([key]).catch(() => undefined);
      throw new Error(`checksum mismatch after upload of ${key}: stored ${stored}`);
    }
    return { sizeBytes: size, sha256: Buffer.from(wholeDigest, 'base64').toString('hex'), parts: parts.length };
  } finally {
    await handle.close();
  }
}
