/** Client timeouts and retries for every service; tests use the same values. */
export const kafkaDefaults = {
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 30_000,
  retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 30_000, factor: 0.2, multiplier: 2 },
} as const;
