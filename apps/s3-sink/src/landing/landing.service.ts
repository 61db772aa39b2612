import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { LandingSink } from '@app/lake';
import { LANDING_SINK } from './landing.tokens';

/** Starts landing once the app is up and flushes, commits and leaves the group on shutdown (SIGTERM). */
@Injectable()
export class LandingService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(LANDING_SINK) private readonly sink: LandingSink) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.sink.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sink.stop();
  }
}
