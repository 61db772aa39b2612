import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { errorClass, errorMessage } from './errors';

/** Headers a dead-lettered record carries besides its original ones (all UTF-8 strings). */
export const DLQ_HEADERS = {
  errorClass: 'dlq.error.class',
  errorMessage: 'dlq.error.message',
  errorCode: 'dlq.error.code',
  sourceTopic: 'dlq.source.topic',
  sourcePartition: 'dlq.source.partition',
  sourceOffset: 'dlq.source.offset',
  service: 'dlq.service',
  time: 'dlq.time',
} as const;

export function dlqTopicOf(topic: string): string {
  return `${topic}.dlq`;
}

/** The original key, value and headers byte for byte, plus headers naming the failure and its source. */
export function deadLetter(
  source: { topic: string; partition: number; message: KafkaMessage },
  err: unknown,
  service: string,
  now: Date,
): Message {
  const code = (err as { code?: unknown } | null)?.code;
  const headers: IHeaders = {
    ...(source.message.headers ?? {}),
    [DLQ_HEADERS.errorClass]: errorClass(err),
    // Header values are bytes but keep them readable and bounded.
    [DLQ_HEADERS.errorMessage]: errorMessage(err).slice(0, 2_000),
    [DLQ_HEADERS.sourceTopic]: source.topic,
    [DLQ_HEADERS.sourcePartition]: String(source.partition),
    [DLQ_HEADERS.sourceOffset]: source.message.offset,
    [DLQ_HEADERS.service]: service,
    [DLQ_HEADERS.time]: now.toISOString(),
  };
  if (typeof code === 'string' || typeof code === 'number') headers[DLQ_HEADERS.errorCode] = String(code);
  return { key: source.message.key, value: source.message.value, headers, timestamp: source.message.timestamp };
}
