/**
 * Back-pressure: a request is admitted only while the bytes and requests in flight (being read,
 * validated or waiting for Kafka) stay under their caps; otherwise it is answered 429 with Retry-After
 * before its body is read, so memory stays bounded whatever the clients send.
 */
export interface AdmissionTicket {
  readonly bytes: number;
}

export class Admission {
  private bytes = 0;
  private requests = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxRequests: number,
  ) {}

  get inFlightBytes(): number {
    return this.bytes;
  }

  get inFlightRequests(): number {
    return this.requests;
  }

  /** Reserves `bytes` (the body's declared size, or the batch limit when unknown); undefined: throttle. */
  tryAcquire(bytes: number): AdmissionTicket | undefined {
    if (this.requests + 1 > this.maxRequests || this.bytes + bytes > this.maxBytes) return undefined;
    this.bytes += bytes;
    this.requests += 1;
    return { bytes };
  }

  release(ticket: AdmissionTicket): void {
    this.bytes -= ticket.bytes;
    this.requests -= 1;
  }
}
