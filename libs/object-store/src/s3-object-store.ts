import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import type { ObjectStoreConfig } from '@app/config';
import {
  ObjectExistsError,
  ObjectNotFoundError,
  ObjectStoreUnavailableError,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type PutResult,
} from './object-store';
import { backoffDelayMs, objectStoreDefaults, type ObjectStoreOptions } from './object-store-defaults';
import { sseKmsParams } from './s3-client';
import { assertValidKey } from './file-object-store';
import type { ResumableUploads, UploadedPart } from './resumable-upload';

interface AwsishError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const THROTTLING = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException', 'RequestTimeout', 'RequestTimeTooSkewed', 'InternalError', 'ServiceUnavailable']);
const NETWORK = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|socket hang up|timeout|aborted|network/i;

/** 5xx, throttling, timeouts and failed connections are worth another attempt; everything else is an answer. */
export function isRetriableS3Error(err: unknown): boolean {
  const e = (err ?? {}) as AwsishError;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return true;
  if (THROTTLING.has(e.name ?? '') || THROTTLING.has(e.code ?? '')) return true;
  if (e.$retryable) return true;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  return status === undefined && NETWORK.test(`${e.code ?? ''} ${e.name ?? ''} ${e.message ?? ''}`);
}

function statusOf(err: unknown): number | undefined {
  return (err as AwsishError)?.$metadata?.httpStatusCode;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The lake in S3 (`s3://bucket/prefix`). Every write carries SSE-KMS; large bodies go by multipart
 * upload, aborted when any part fails; `ifNoneMatch` sends `If-None-Match: *` (S3 answers 412 when
 * the key exists). Retriable failures are retried here with full-jitter exponential backoff (the SDK's
 * own retries are off, so the policy is in one place) and surface as {@link ObjectStoreUnavailableError}.
 */
export class S3ObjectStore implements ObjectStore, ResumableUploads {
  readonly url: string;
  private readonly client: S3Client;
  private readonly sse: ReturnType<typeof sseKmsParams>;

  constructor(
    readonly bucket: string,
    private readonly prefix: string,
    config: ObjectStoreConfig,
    private readonly options: ObjectStoreOptions = objectStoreDefaults,
    client?: S3Client,
  ) {
    this.url = `s3://${bucket}/${prefix}`;
    this.sse = sseKmsParams(config);
    this.client =
      client ??
      new S3Client({
        region: config.region,
        endpoint: config.endpoint,
        forcePathStyle: config.forcePathStyle,
        credentials: config.credentials,
        maxAttempts: 1,
        requestHandler: { connectionTimeout: options.connectionTimeoutMs, requestTimeout: options.requestTimeoutMs },
      });
  }

  /** Closes the client's sockets. */
  destroy(): void {
    this.client.destroy();
  }

  private fullKey(key: string): string {
    assertValidKey(key);
    return this.prefix + key;
  }

  private async withRetries<T>(what: string, run: () => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let attempt = 0; attempt < this.options.maxAttempts; attempt++) {
      if (attempt > 0) await sleep(backoffDelayMs(attempt - 1, this.options));
      try {
        return await run();
      } catch (err) {
        if (!isRetriableS3Error(err)) throw err;
        lastError = err;
      }
    }
    const reason = lastError instanceof Error ? lastError.message || lastError.name : String(lastError);
    throw new ObjectStoreUnavailableError(`${what} failed after ${this.options.maxAttempts} attempts: ${reason}`, lastError);
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const Key = this.fullKey(key);
    try {
      if (body.length >= this.options.multipartThresholdBytes) return await this.putMultipart(Key, body, options);
      const out = await this.withRetries(`PUT ${Key}`, () =>
        this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key,
            Body: body,
            ContentType: options.contentType,
            ChecksumSHA256: options.sha256Base64,
            IfNoneMatch: options.ifNoneMatch ? '*' : undefined,
            ...this.sse,
          }),
        ),
      );
      return { etag: out.ETag, serverSideEncryption: out.ServerSideEncryption };
    } catch (err) {
      throw this.classifyWrite(err, key);
    }
  }

  private async putMultipart(Key: string, body: Uint8Array, options: PutOptions): Promise<PutResult> {
    const created = await this.withRetries(`CreateMultipartUpload ${Key}`, () =>
      this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ContentType: options.contentType, ...this.sse }),
      ),
    );
    const UploadId = created.UploadId!;
    try {
      const partSize = this.options.partSizeBytes;
      const count = Math.ceil(body.length / partSize);
      const parts: CompletedPart[] = new Array(count);
      let next = 0;
      const worker = async () => {
        while (next < count) {
          const index = next++;
          const chunk = body.subarray(index * partSize, Math.min(body.length, (index + 1) * partSize));
          const out = await this.withRetries(`UploadPart ${index + 1} ${Key}`, () =>
            this.client.send(
              new UploadPartCommand({ Bucket: this.bucket, Key, UploadId, PartNumber: index + 1, Body: chunk }),
            ),
          );
          parts[index] = { PartNumber: index + 1, ETag: out.ETag };
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.options.partConcurrency, count) }, worker));
      const done = await this.withRetries(`CompleteMultipartUpload ${Key}`, () =>
        this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key,
            UploadId,
            MultipartUpload: { Parts: parts },
            IfNoneMatch: options.ifNoneMatch ? '*' : undefined,
          }),
        ),
      );
      return { etag: done.ETag, serverSideEncryption: done.ServerSideEncryption };
    } catch (err) {
      // Parts of an unfinished upload are billed until aborted; best effort (S3 may be the thing that is down,
      // and a bucket lifecycle rule for incomplete uploads is the backstop).
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId })).catch(() => undefined);
      throw err;
    }
  }

  async get(key: string): Promise<Buffer> {
    const Key = this.fullKey(key);
    try {
      return await this.withRetries(`GET ${Key}`, async () => {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
        return Buffer.from(await out.Body!.transformToByteArray());
      });
    } catch (err) {
      const e = err as AwsishError;
      if (e.name === 'NoSuchKey' || statusOf(err) === 404) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const Key = this.fullKey(key);
    try {
      const out = await this.withRetries(`HEAD ${Key}`, () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key })),
      );
      return {
        key,
        size: out.ContentLength ?? 0,
        lastModified: out.LastModified,
        serverSideEncryption: out.ServerSideEncryption,
      };
    } catch (err) {
      const e = err as AwsishError;
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.withRetries(`LIST ${this.prefix}${prefix}`, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken }),
        ),
      );
      for (const item of page.Contents ?? []) {
        out.push({ key: item.Key!.slice(this.prefix.length), size: item.Size ?? 0, lastModified: item.LastModified });
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[]): Promise<void> {
    // DeleteObjects takes at most 1,000 keys per request.
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((key) => ({ Key: this.fullKey(key) }));
      const out = await this.withRetries(`DELETE ${batch.length} objects`, () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } })),
      );
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        throw new ObjectStoreUnavailableError(`DELETE failed for ${failed.length} keys: ${failed[0].Code} ${failed[0].Message}`);
      }
    }
  }

  async createUpload(key: string, options: { contentType?: string } = {}): Promise<string> {
    const Key = this.fullKey(key);
    // SHA256 parts: S3 checks each part's digest on arrival and keeps the composite for later verification.
    const out = await this.withRetries(`CreateMultipartUpload ${Key}`, () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ContentType: options.contentType, ChecksumAlgorithm: 'SHA256', ...this.sse })),
    );
    return out.UploadId!;
  }

  async uploadPart(key: string, uploadId: string, part: { partNumber: number; body: Uint8Array; sha256Base64?: string }): Promise<UploadedPart> {
    const Key = this.fullKey(key);
    const sha256Base64 = part.sha256Base64 ?? createHash('sha256').update(part.body).digest('base64');
    const out = await this.withRetries(`UploadPart ${part.partNumber} ${Key}`, () =>
      this.client.send(
        new UploadPartCommand({ Bucket: this.bucket, Key, UploadId: uploadId, PartNumber: part.partNumber, Body: part.body, ChecksumSHA256: sha256Base64 }),
      ),
    );
    return { partNumber: part.partNumber, etag: out.ETag!, size: part.body.length, sha256Base64 };
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[] | undefined> {
    const Key = this.fullKey(key);
    const parts: UploadedPart[] = [];
    let PartNumberMarker: string | undefined;
    try {
      do {
        const page = await this.withRetries(`ListParts ${Key}`, () =>
          this.client.send(new ListPartsCommand({ Bucket: this.bucket, Key, UploadId: uploadId, PartNumberMarker })),
        );
        for (const p of page.Parts ?? []) {
          parts.push({ partNumber: p.PartNumber!, etag: p.ETag!, size: p.Size ?? 0, sha256Base64: p.ChecksumSHA256 });
        }
        PartNumberMarker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (PartNumberMarker);
    } catch (err) {
      if ((err as AwsishError).name === 'NoSuchUpload' || statusOf(err) === 404) return undefined;
      throw err;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeUpload(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<PutResult> {
    const Key = this.fullKey(key);
    const Parts = [...parts]
      .sort((a, b) => a.partNumber - b.partNumber)
      .map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, ChecksumSHA256: p.sha256Base64 }));
    const out = await this.withRetries(`CompleteMultipartUpload ${Key}`, () =>
      this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId, MultipartUpload: { Parts } })),
    );
    return { etag: out.ETag, serverSideEncryption: out.ServerSideEncryption };
  }

  async abortUpload(key: string, uploadId: string): Promise<void> {
    const Key = this.fullKey(key);
    try {
      await this.withRetries(`AbortMultipartUpload ${Key}`, () => this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId })));
    } catch (err) {
      if ((err as AwsishError).name === 'NoSuchUpload' || statusOf(err) === 404) return;
      throw err;
    }
  }

  async storedSha256(key: string): Promise<string | undefined> {
    const Key = this.fullKey(key);
    const out = await this.withRetries(`HEAD ${Key}`, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key, ChecksumMode: 'ENABLED' })));
    return out.ChecksumSHA256 || undefined;
  }

  private classifyWrite(err: unknown, key: string): unknown {
    const e = err as AwsishError;
    // 412 PreconditionFailed: If-None-Match found the key; 409 ConditionalRequestConflict: a racing write won.
    if (e.name === 'PreconditionFailed' || statusOf(err) === 412 || e.name === 'ConditionalRequestConflict') {
      return new ObjectExistsError(key);
    }
    return err;
  }
}
