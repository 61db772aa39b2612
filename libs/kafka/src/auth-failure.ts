import type { Kafka } from 'kafkajs';
import type { KafkaAuth } from '@app/config';
import type { Logger } from '@app/logging';
import { kafkaDefaults } from './kafka-defaults';

/** Kafka error codes that mean "this principal may not do that" (ACL or IAM policy). */
const AUTHORIZATION_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
]);

export type KafkaFailureKind = 'authentication' | 'authorization' | 'other';

interface ErrorLike {
  name?: string;
  type?: string;
  message?: string;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown[];
}

/** The error and everything kafkajs nests in it (`cause`, `originalError`, aggregate `errors`). */
function errorChain(err: unknown): ErrorLike[] {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  const chain: ErrorLike[] = [];
  while (queue.length > 0) {
    const current = queue.shift();
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const e = current as ErrorLike;
    chain.push(e);
    queue.push(e.cause, e.originalError, ...(Array.isArray(e.errors) ? e.errors : []));
  }
  return chain;
}

/** Kafka error codes found anywhere in the error, e.g. `['TOPIC_AUTHORIZATION_FAILED']`. */
export function kafkaErrorTypes(err: unknown): string[] {
  return [...new Set(errorChain(err).flatMap((e) => (e.type ? [e.type] : [])))];
}

/**
 * Whether an error (or anything kafkajs nests in it) is a refused login, a refused operation, or
 * something else (network, broker, ...). Credentials and ACLs do not fix themselves, so the first two
 * must never be retried forever.
 */
export function classifyKafkaError(err: unknown): KafkaFailureKind {
  const chain = errorChain(err);
  const authentication = chain.some(
    (e) =>
      e.name === 'KafkaJSSASLAuthenticationError' ||
      e.name === 'MskIamTokenError' ||
      e.type === 'SASL_AUTHENTICATION_FAILED' ||
      e.type === 'ILLEGAL_SASL_STATE' ||
      // The broker does not offer the configured mechanism (say msk-iam against a SCRAM listener).
      e.type === 'UNSUPPORTED_SASL_MECHANISM',
  );
  if (authentication) return 'authentication';
  if (chain.some((e) => e.type !== undefined && AUTHORIZATION_TYPES.has(e.type))) return 'authorization';
  return 'other';
}

/** Who tried to log in, for messages: never a password or token. */
export function describeKafkaPrincipal(auth: KafkaAuth): string {
  switch (auth.mode) {
    case 'none':
      return 'no authentication';
    case 'scram':
      return `SCRAM-SHA-512 user "${auth.username}"`;
    case 'msk-iam':
      return auth.roleArn
        ? `MSK IAM role ${auth.roleArn} (session "${auth.sessionName}")`
        : `MSK IAM default credentials (session "${auth.sessionName}")`;
  }
}

/** The broker keeps refusing these credentials: the process should stop and say so. */
export class KafkaAuthenticationError extends Error {
  readonly retriable = false;
  constructor(
    readonly principal: string,
    readonly brokers: string[],
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      `Kafka authentication failed for ${principal} at ${brokers.join(',')} after ${attempts} attempt(s): ` +
        `${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
    this.name = 'KafkaAuthenticationError';
  }
}

export interface AuthCheckOptions {
  auth: KafkaAuth;
  brokers: string[];
  maxAttempts?: number;
  backoffMs?: number;
  logger?: Logger;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Logs in once (admin connect + DescribeCluster) before a service starts consuming. A refused login
 * is retried a bounded number of times with growing pauses, then thrown as
 * {@link KafkaAuthenticationError} naming the principal and the broker's reason. Other failures (broker
 * down) are not this check's business: they are returned for readiness to report, and kafkajs backs off.
 */
export async function checkKafkaAuthentication(
  kafka: Kafka,
  options: AuthCheckOptions,
): Promise<{ ok: true } | { ok: false; error: Error }> {
  const maxAttempts = options.maxAttempts ?? kafkaDefaults.authFailure.maxAttempts;
  const sleep = options.sleep ?? realSleep;
  let backoff = options.backoffMs ?? kafkaDefaults.authFailure.backoffMs;
  const principal = describeKafkaPrincipal(options.auth);
  for (let attempt = 1; ; attempt++) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return { ok: true };
    } catch (err) {
      if (classifyKafkaError(err) !== 'authentication') return { ok: false, error: err as Error };
      if (attempt >= maxAttempts) throw new KafkaAuthenticationError(principal, options.brokers, attempt, err);
      options.logger?.warn('kafka authentication refused, will retry', {
        principal,
        attempt,
        maxAttempts,
        retryInMs: backoff,
        error: (err as Error).message,
      });
      await sleep(backoff);
      backoff = Math.min(backoff * 2, kafkaDefaults.authFailure.maxBackoffMs);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
