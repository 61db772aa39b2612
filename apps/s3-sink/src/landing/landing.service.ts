import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { LandingSink } from '@app/lake';
import type { Logger } from '@app/logging';
import { LOGGER, startInBackground } from '@app/platform';
import { LANDING_SINK } from './landing.tokens';

/**
 * Starts landing once the app is up — in the background, retried while the broker is unreachable, so the
 * HTTP port (health, metrics) opens anyway — and flushes, commits and leaves the group on shutdown.
 */
@Injectable()
export class LandingService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private stopping = false;

  constructor(
    @Inject(LANDING_SINK) private readonly sink: LandingSink,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    void startInBackground('landing', () => this.sink.start(), this.logger, () => this.stopping);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.sink.stop();
  }
}
