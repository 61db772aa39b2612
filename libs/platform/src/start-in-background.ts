import type { Logger } from '@app/logging';

/** Back-off between start attempts of a dependency-bound component: 1 s doubling to 30 s, full jitter. */
export const backgroundStartDefaults = { initialDelayMs: 1000, maxDelayMs: 30_000 } as const;

/**
 * Starts a component that needs the broker (a consumer, a landing sink) without holding the HTTP port
 * closed: `/health` and `/health/ready` must answer during an outage so an orchestrator sees *why* the
 * service is not ready instead of a process that never listens. Failed starts are retried with jittered
 * back-off until one succeeds or `isStopping()` says the app is shutting down.
 */
export function startInBackground(
  what: string,
  start: () => Promise<void>,
  logger: Logger,
  isStopping: () => boolean,
  defaults: { initialDelayMs: number; maxDelayMs: number } = backgroundStartDefaults,
): Promise<void> {
  return (async () => {
    for (let attempt = 0; !isStopping(); attempt++) {
      try {
        await start();
        if (attempt > 0) logger.info(`${what} started`, { attempts: attempt + 1 });
        return;
      } catch (err) {
        if (isStopping()) return;
        const ceiling = Math.min(defaults.maxDelayMs, defaults.initialDelayMs * 2 ** attempt);
        const delayMs = Math.round(Math.random() * ceiling);
        logger.warn(`${what} could not start; retrying`, { attempt: attempt + 1, delayMs, error: (err as Error).message });
        await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      }
    }
  })();
}
