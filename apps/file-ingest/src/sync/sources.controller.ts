import { Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import type { FileRunReport } from '@app/ingest';
import { FileIngestScheduler, type SourceStatus } from './file-ingest.scheduler';

@Controller('sources')
export class SourcesController {
  constructor(private readonly scheduler: FileIngestScheduler) {}

  /** Each configured source: schedule, next run, whether it runs now, and its last report. */
  @Get()
  list(): SourceStatus[] {
    return this.scheduler.sources();
  }

  /** Runs the source now (or waits for the run in progress) and answers with the run report. */
  @Post(':name/run')
  @HttpCode(200)
  async run(@Param('name') name: string): Promise<FileRunReport> {
    const run = this.scheduler.run(name);
    if (!run) throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `no source named ${name} in FILE_INGEST_SOURCES` });
    return run;
  }
}
