import { randomUUID } from 'node:crypto';

export { S3FaultProxy } from './s3-fault-proxy';
export type { FaultRequest, FaultVerdict } from './s3-fault-proxy';

/** A name no other test (or earlier run) uses: topics, groups, buckets. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

/** Polls `condition` until it returns a truthy value, instead of sleeping a guessed time. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` + (lastError ? `: ${String(lastError)}` : ''));
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
export { readTopic, committedOffsets, endOffsets } from './kafka-topics';
export type { ReadMessage } from './kafka-topics';
