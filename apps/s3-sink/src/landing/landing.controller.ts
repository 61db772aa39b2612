import { Controller, Get, Inject } from '@nestjs/common';
import type { LandingSink, WriterStatus } from '@app/lake';
import { LANDING_SINK } from './landing.tokens';

/** The writer state machine per topic-partition, as it is now (metrics carry the history). */
@Controller('sink')
export class LandingController {
  constructor(@Inject(LANDING_SINK) private readonly sink: LandingSink) {}

  @Get('writers')
  writers(): { topics: readonly string[]; writers: WriterStatus[] } {
    return { topics: this.sink.subscribedTopics, writers: this.sink.writerStatus() };
  }
}
