import { z } from 'zod';
import { ConfigError } from '@app/config';

const count = z.coerce.number().int().min(1);
const amount = z.coerce.number().positive();
const score = z.coerce.number().int().min(1).max(100);

/** Thresholds of the fraud rules: config, and part of every assessment's `ruleVersions`. */
export const fraudEnvironmentSchema = z
  .object({
    FRAUD_RULESET_VERSION: z.string().regex(/^[\w.-]{1,32}$/, 'letters, digits, . _ - (at most 32)').default('v1'),
    FRAUD_REVIEW_SCORE: score.default(50),
    FRAUD_DECLINE_SCORE: score.default(80),
    FRAUD_MAX_ORDERS_1H: count.default(10),
    FRAUD_MAX_AMOUNT_1H: amount.default(5000),
    FRAUD_MAX_ORDERS_24H: count.default(50),
    FRAUD_MAX_AMOUNT_24H: amount.default(20000),
    FRAUD_MAX_CUSTOMERS_PER_FINGERPRINT_24H: count.default(3),
    FRAUD_USUAL_BASKET: amount.default(150),
    FRAUD_FIRST_ORDER_MULTIPLIER: amount.default(5),
    FRAUD_SESSION_BURST_MAX_ORDERS: count.default(3),
    FRAUD_SESSION_BURST_WINDOW_MS: z.coerce.number().int().min(1000).default(600_000),
    // How soon a crashed instance's partitions move to another one (broker minimum 6 s).
    RUNTIME_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).default(30_000),
  })
  .refine((env) => env.FRAUD_REVIEW_SCORE < env.FRAUD_DECLINE_SCORE, {
    path: ['FRAUD_REVIEW_SCORE'],
    message: 'must be below FRAUD_DECLINE_SCORE',
  });

export interface FraudSettings {
  rulesetVersion: string;
  reviewScore: number;
  declineScore: number;
  maxOrders1h: number;
  maxAmount1h: number;
  maxOrders24h: number;
  maxAmount24h: number;
  maxCustomersPerFingerprint24h: number;
  usualBasket: number;
  firstOrderMultiplier: number;
  sessionBurstMaxOrders: number;
  sessionBurstWindowMs: number;
  sessionTimeoutMs: number;
}

/** Parses the fraud thresholds from the environment, naming every bad variable. */
export function loadFraudSettings(env: NodeJS.ProcessEnv): FraudSettings {
  const parsed = fraudEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => ({ variable: issue.path.join('.'), message: issue.message })));
  }
  const e = parsed.data;
  return {
    rulesetVersion: e.FRAUD_RULESET_VERSION,
    reviewScore: e.FRAUD_REVIEW_SCORE,
    declineScore: e.FRAUD_DECLINE_SCORE,
    maxOrders1h: e.FRAUD_MAX_ORDERS_1H,
    maxAmount1h: e.FRAUD_MAX_AMOUNT_1H,
    maxOrders24h: e.FRAUD_MAX_ORDERS_24H,
    maxAmount24h: e.FRAUD_MAX_AMOUNT_24H,
    maxCustomersPerFingerprint24h: e.FRAUD_MAX_CUSTOMERS_PER_FINGERPRINT_24H,
    usualBasket: e.FRAUD_USUAL_BASKET,
    firstOrderMultiplier: e.FRAUD_FIRST_ORDER_MULTIPLIER,
    sessionBurstMaxOrders: e.FRAUD_SESSION_BURST_MAX_ORDERS,
    sessionBurstWindowMs: e.FRAUD_SESSION_BURST_WINDOW_MS,
    sessionTimeoutMs: e.RUNTIME_SESSION_TIMEOUT_MS,
  };
}
