/** Client timeouts and retries for every service; tests use the same values. */
export const kafkaDefaults = {
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 30_000,
  retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 30_000, factor: 0.2, multiplier: 2 },
  mskIam: {
    // A 15-minute token is replaced with ~3 minutes left: well before kafkajs' 10 s re-auth threshold.
    refreshRemainingFraction: 0.2,
    minRefreshMarginMs: 60_000,
    // Past this, a failed refresh is an error: kafkajs re-authenticates 10 s before a session ends.
    minUsableMs: 30_000,
  },
  authFailure: {
    // Wrong credentials do not fix themselves: a few spaced tries, then stop (KAFKA_AUTH_MAX_ATTEMPTS).
    maxAttempts: 3,
    backoffMs: 1_000,
    maxBackoffMs: 8_000,
  },
} as const;
