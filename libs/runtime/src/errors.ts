/** What the runtime does with a failure while handling one record. */
export type Verdict = 'retry' | 'dead-letter' | 'unclassified';

/** The input topic's value is not JSON (internal topics carry JSON values). */
export class JsonDecodeError extends Error {
  readonly retriable = false;
  constructor(topic: string, cause: unknown) {
    super(`value on ${topic} is not JSON: ${(cause as Error).message}`, { cause });
    this.name = 'JsonDecodeError';
  }
}

/** A retriable failure that aborts the whole batch (nothing is committed; the partition backs off). */
export class RetryBatchError extends Error {
  constructor(readonly reason: unknown) {
    super(`batch will be retried: ${errorMessage(reason)}`, { cause: reason });
    this.name = 'RetryBatchError';
  }
}

/** The task's transactional id was taken over by a newer owner: this instance must stop writing for it. */
export class TaskFencedError extends Error {
  constructor(readonly task: number, cause: unknown) {
    super(`task ${task} was fenced by a newer owner: ${errorMessage(cause)}`, { cause });
    this.name = 'TaskFencedError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function errorClass(err: unknown): string {
  if (err instanceof Error) return err.name && err.name !== 'Error' ? err.name : err.constructor.name;
  return typeof err;
}

/**
 * Sorts a record-level failure (decode, handler, encode) by the one `retriable` flag the codebase uses
 * (kafkajs, the codec and `NonRetriableError` all set it): true → back off and retry, false → DLQ,
 * missing → unclassified (retried a few times, then dead-lettered so a bug cannot stall a partition).
 */
export function classify(err: unknown): Verdict {
  const retriable = (err as { retriable?: unknown } | null)?.retriable;
  if (retriable === true) return 'retry';
  if (retriable === false) return 'dead-letter';
  return 'unclassified';
}

// kafkajs speaks old protocol versions, so a fenced producer sees INVALID_PRODUCER_EPOCH (47); newer
// brokers may answer PRODUCER_FENCED (90), which kafkajs does not name.
const FENCING_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);

/** True when a transaction failed because a newer producer with our transactional id exists. */
export function isFencing(err: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { type, code, message } = current as { type?: string; code?: number; message?: string };
    if ((type && FENCING_TYPES.has(type)) || code === 90 || code === 47 || /fenced/i.test(message ?? '')) return true;
    current = (current as { cause?: unknown; originalError?: unknown }).cause ?? (current as { originalError?: unknown }).originalError;
  }
  return false;
}
