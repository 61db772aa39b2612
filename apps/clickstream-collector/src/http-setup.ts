import type { IncomingMessage } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';

/** The path of the batch endpoint; its body is read by the collector itself, never by a body parser. */
export const EVENTS_PATH = '/v1/events';

const isEvents = (req: IncomingMessage) => (req.url ?? '').split('?')[0] === EVENTS_PATH;

/**
 * Nest's own JSON parser would buffer every application/json body (with its 100 kB limit) before the
 * collector's admission check (429 before a byte is read), gzip and 5 MiB handling. This JSON parser
 * (its name makes Nest skip its own) parses JSON bodies of every other route and leaves the batch
 * endpoint's stream untouched.
 */
export function configureCollectorHttp(app: INestApplication): void {
  (app as NestExpressApplication).useBodyParser('json', {
    type: (req: IncomingMessage) => !isEvents(req) && /^application\/json\b/i.test(req.headers['content-type'] ?? ''),
  });
}
