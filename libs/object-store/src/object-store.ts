/**
 * The lake's one storage interface. Two real implementations are chosen by `LAKE_URL`:
 * `s3://bucket/prefix` (AWS S3 or the local S3 server) and `file:///path` (users without S3).
 * Keys are relative to the lake root (`raw/<topic>/dt=.../hour=.../<file>`), always with `/`.
 */
export interface ObjectStore {
  /** Human-readable root, e.g. `s3://securecart-lake/` or `file:///tmp/lake/` (for logs and docs). */
  readonly url: string;
  /**
   * Writes the whole object. With `ifNoneMatch: true` the write fails with {@link ObjectExistsError}
   * when the key already exists (S3 `If-None-Match: *`; an exclusive create on files).
   * Large bodies go by multipart upload, aborted on failure.
   */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<PutResult>;
  /** The object's bytes; throws {@link ObjectNotFoundError} when it does not exist. */
  get(key: string): Promise<Buffer>;
  /** Size and metadata, or `undefined` when it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object under the prefix (recursively), sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Deletes the keys; missing keys are not an error. */
  delete(keys: readonly string[]): Promise<void>;
}

export interface PutOptions {
  contentType?: string;
  ifNoneMatch?: boolean;
  /** Base64 sha256 the store verifies (S3 `x-amz-checksum-sha256`); files ignore it. */
  sha256Base64?: string;
}

export interface PutResult {
  etag?: string;
  /** `aws:kms` when the store encrypted the object with SSE-KMS. */
  serverSideEncryption?: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified?: Date;
  serverSideEncryption?: string;
}

export class ObjectNotFoundError extends Error {
  readonly retriable = false;
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

export class ObjectExistsError extends Error {
  readonly retriable = false;
  constructor(readonly key: string) {
    super(`object already exists: ${key}`);
    this.name = 'ObjectExistsError';
  }
}

/** The store failed after its own retries (5xx, throttling, timeouts, connection refused): pause and back off. */
export class ObjectStoreUnavailableError extends Error {
  readonly retriable = true;
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'ObjectStoreUnavailableError';
  }
}
