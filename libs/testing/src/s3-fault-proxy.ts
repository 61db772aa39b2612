import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one request: pass it on, or answer with an S3 error itself. */
export type FaultVerdict = 'pass' | { status: number; code: string } | 'hang';

export interface FaultRequest {
  method: string;
  /** Path and query as the client sent them, e.g. `/securecart-lake/raw/t/...?partNumber=2&uploadId=...`. */
  url: string;
  headers: IncomingMessage['headers'];
}

/**
 * An HTTP proxy in front of the local S3 server that injects failures: every request, or the ones a
 * rule picks (e.g. the second UploadPart of a multipart upload), get a 503 SlowDown (or any status)
 * instead of reaching S3, or hang until the client times out. Tests point `S3_ENDPOINT` at it.
 */
export class S3FaultProxy {
  private server?: Server;
  private rule: (req: FaultRequest) => FaultVerdict = () => 'pass';
  /** Requests seen, and how many of them the proxy failed. */
  readonly stats = { requests: 0, failed: 0, passed: 0 };
  private readonly hung = new Set<import('node:http').ServerResponse>();

  constructor(private readonly target = 'http://127.0.0.1:9000') {}

  /** Starts listening on a free loopback port; returns the endpoint URL to use as `S3_ENDPOINT`. */
  async start(port = 0): Promise<string> {
    const target = new URL(this.target);
    this.server = createServer((req, res) => {
      this.stats.requests++;
      const verdict = this.rule({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
      if (verdict === 'hang') {
        this.stats.failed++;
        this.hung.add(res);
        req.resume();
        res.on('close', () => this.hung.delete(res));
        return;
      }
      if (verdict !== 'pass') {
        this.stats.failed++;
        req.resume();
        req.on('end', () => {
          res.writeHead(verdict.status, { 'content-type': 'application/xml' });
          res.end(
            `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${verdict.code}</Code><Message>injected by S3FaultProxy</Message></Error>`,
          );
        });
        return;
      }
      this.stats.passed++;
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Decides per request from now on. */
  setRule(rule: (req: FaultRequest) => FaultVerdict): void {
    this.rule = rule;
  }

  /** Every request answers 503 SlowDown (S3 is "down") until {@link heal}. */
  failAll(status = 503, code = 'SlowDown'): void {
    this.setRule(() => ({ status, code }));
  }

  /** Requests reach S3 again. */
  heal(): void {
    this.rule = () => 'pass';
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
