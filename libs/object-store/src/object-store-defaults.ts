/** Retry, timeout and multipart defaults of the object stores (STYLE #8: defaults are data). */
export const objectStoreDefaults = {
  /** Attempts per request, the first included; after the last one {@link ObjectStoreUnavailableError}. */
  maxAttempts: 6,
  /** Full-jitter exponential backoff: a random delay in [0, min(maxDelayMs, baseDelayMs * 2^attempt)). */
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  connectionTimeoutMs: 3_000,
  /** Per request; a hung S3 connection counts as a retriable timeout. */
  requestTimeoutMs: 30_000,
  /** Bodies at or above this size go by multipart upload. */
  multipartThresholdBytes: 16 * 1024 * 1024,
  /** S3's minimum part size is 5 MiB (all parts but the last). */
  partSizeBytes: 8 * 1024 * 1024,
  partConcurrency: 4,
};

export type ObjectStoreOptions = typeof objectStoreDefaults;

/** Faster profile for tests: give up in well under a second. */
export const objectStoreTestDefaults: ObjectStoreOptions = {
  ...objectStoreDefaults,
  maxAttempts: 3,
  baseDelayMs: 20,
  maxDelayMs: 100,
  requestTimeoutMs: 5_000,
};

/** Full-jitter delay before retry number `attempt` (0-based). */
export function backoffDelayMs(attempt: number, options: Pick<ObjectStoreOptions, 'baseDelayMs' | 'maxDelayMs'>): number {
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
  return Math.floor(Math.random() * cap);
}
