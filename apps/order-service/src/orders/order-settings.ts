import { z } from 'zod';
import { ConfigError } from '@app/config';
import type { FanInSettings } from './order-fan-in';

const ms = (min: number) => z.coerce.number().int().min(min);

export const orderEnvironmentSchema = z
  .object({
    ORDER_VALIDATION_TIMEOUT_MS: ms(100).default(30_000),
    ORDER_CANCEL_WINDOW_MS: ms(0).default(300_000),
    ORDER_RETENTION_MS: ms(1_000).default(86_400_000),
    ORDER_TIMEOUT_CHECK_MS: ms(50).default(1_000),
    ORDER_PUBLISH_TIMEOUT_MS: ms(100).default(5_000),
    // How soon a crashed instance's partitions move to another one (broker minimum 6 s).
    RUNTIME_SESSION_TIMEOUT_MS: ms(6_000).default(30_000),
  })
  .refine((env) => env.ORDER_RETENTION_MS > env.ORDER_CANCEL_WINDOW_MS, {
    path: ['ORDER_RETENTION_MS'],
    message: 'must exceed ORDER_CANCEL_WINDOW_MS (a cancellable order must still be known)',
  });

export interface OrderSettings {
  fanIn: FanInSettings;
  /** How often the timeout punctuation looks for orders past their deadline. */
  timeoutCheckMs: number;
  /** How long POST /orders waits for Kafka to acknowledge OrderPlaced before answering 503. */
  publishTimeoutMs: number;
  sessionTimeoutMs: number;
}

/** The order-service's own settings, naming every bad variable (exit 78 at boot). */
export function loadOrderSettings(env: NodeJS.ProcessEnv): OrderSettings {
  const parsed = orderEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => ({ variable: issue.path.join('.'), message: issue.message })));
  }
  const e = parsed.data;
  return {
    fanIn: { validationTimeoutMs: e.ORDER_VALIDATION_TIMEOUT_MS, cancelWindowMs: e.ORDER_CANCEL_WINDOW_MS, retentionMs: e.ORDER_RETENTION_MS },
    timeoutCheckMs: e.ORDER_TIMEOUT_CHECK_MS,
    publishTimeoutMs: e.ORDER_PUBLISH_TIMEOUT_MS,
    sessionTimeoutMs: e.RUNTIME_SESSION_TIMEOUT_MS,
  };
}
