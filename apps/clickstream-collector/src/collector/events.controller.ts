import { Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ClickstreamIngest } from './clickstream-ingest';

/**
 * `POST /v1/events`: a batch of up to 500 events or 5 MiB (JSON array or NDJSON, gzip accepted),
 * answered per record like Kinesis PutRecords. The body is read by the ingest itself (see http-setup).
 */
@Controller('v1/events')
export class EventsController {
  constructor(@Inject(ClickstreamIngest) private readonly ingest: ClickstreamIngest) {}

  @Post()
  @HttpCode(200)
  async putRecords(@Req() req: Request, @Res() res: Response): Promise<void> {
    const answer = await this.ingest.handle(req);
    // Written on the Node response itself: Express' res.json would also hash every answer for an ETag
    // nobody revalidates (a POST), which cost more than the answer's JSON.
    const body = JSON.stringify(answer.body);
    res.writeHead(answer.status, { ...answer.headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}
