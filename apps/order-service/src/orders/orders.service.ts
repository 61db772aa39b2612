import { randomUUID } from 'node:crypto';
import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { isISO31661Alpha2 } from 'class-validator';
import { DecimalError } from '@app/codec';
import type { PlaceOrderDto } from './dto/place-order.dto';
import { isFinal, type OrderView } from './order-fan-in';
import { buildOrderPlaced, orderIdFor, requestHash } from './order-placement';
import { OrderPublisher } from './order-publisher';
import { OrderStateView } from './order-state.view';
import type { OrderCommand } from './order-topics';

export interface Accepted {
  orderId: string;
  status: string;
  /** The request repeated an earlier one (same Idempotency-Key and body): nothing was published. */
  replayed: boolean;
}

const COMMAND_WAIT_MS = 10_000;
const UNKNOWN_ORDER_WAIT_MS = 2_000;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function badField(field: string, problem: string): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: `invalid fields: ${field}`, fields: [{ field, problems: [problem] }] });
}

/** Public shape of an order: the view minus what only the service needs. */
export function publicView(view: OrderView): Omit<OrderView, 'requestHash' | 'commands'> {
  const shown: Partial<OrderView> = { ...view };
  delete shown.requestHash;
  delete shown.commands;
  return shown as Omit<OrderView, 'requestHash' | 'commands'>;
}

@Injectable()
export class OrdersService {
  /**
   * OrderPlaced sends still in flight on this instance, by order id. Kept until the send settles, even
   * after its request answered 503: a retry then waits for that send instead of publishing again.
   */
  private readonly sends = new Map<string, Promise<void>>();

  constructor(
    private readonly publisher: OrderPublisher,
    private readonly view: OrderStateView,
  ) {}

  async place(body: PlaceOrderDto, idempotencyKey: string | undefined, clientCountry: string | undefined): Promise<Accepted> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw badField('Idempotency-Key', 'Idempotency-Key must be 1-255 visible ASCII characters');
    }
    if (clientCountry !== undefined && !isISO31661Alpha2(clientCountry)) {
      throw badField('X-Client-Country', 'X-Client-Country must be an ISO 3166-1 alpha-2 country code');
    }
    const clientIpCountry = clientCountry ?? null;
    const orderId = orderIdFor(idempotencyKey);
    const hash = requestHash(body, clientIpCountry);
    let event;
    try {
      event = buildOrderPlaced(body, orderId, clientIpCountry, new Date());
    } catch (err) {
      if (err instanceof DecimalError) throw badField('items', `totals do not fit decimal(18,2): ${err.message}`);
      throw err;
    }
    // A send of the same order still in flight decides first: 503 while it is unsettled or if it failed.
    for (let running = this.sends.get(orderId); running; running = this.sends.get(orderId)) {
      await this.publisher.withinDeadline(running);
    }
    const known = this.view.get(orderId);
    if (known?.requestHash !== undefined) {
      if (known.requestHash !== hash) {
        throw new ConflictException({ statusCode: 409, error: 'Conflict', message: 'Idempotency-Key was already used with another request body' });
      }
      return { orderId, status: known.status, replayed: true };
    }
    // No await between the checks above and registering the send: concurrent requests see it.
    const send = this.publisher.publishPlaced(event, hash).then(() => {
      // Read-your-write on this instance before the fan-in's view arrives through the state topic.
      this.view.apply({ orderId, status: 'PENDING', reasons: [], updatedAt: new Date().toISOString(), commands: [], requestHash: hash });
    });
    this.sends.set(orderId, send);
    void send.catch(() => undefined).finally(() => this.sends.delete(orderId));
    await this.publisher.withinDeadline(send);
    return { orderId, status: 'PENDING', replayed: false };
  }

  async get(orderId: string, waitForFinal: boolean, timeoutMs: number): Promise<OrderView> {
    const view = waitForFinal ? await this.view.waitForFinal(orderId, timeoutMs) : this.view.get(orderId);
    if (!view) throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `no order ${orderId}` });
    return view;
  }

  /** Sends a review decision or a cancel to the order's single writer and reports what it decided. */
  async command(orderId: string, command: { type: 'REVIEW'; decision: 'APPROVE' | 'DECLINE' } | { type: 'CANCEL'; reason: string }): Promise<OrderView> {
    // An order just placed through another instance reaches this one's view within a commit or so.
    const known = this.view.get(orderId) ?? (await this.view.waitFor(orderId, () => true, UNKNOWN_ORDER_WAIT_MS));
    if (!known) throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `no order ${orderId}` });
    if (command.type === 'REVIEW' && isFinal(known.status)) {
      throw new ConflictException({ statusCode: 409, error: 'Conflict', message: `order is ${known.status}, not in REVIEW` });
    }
    if (command.type === 'CANCEL' && (known.status === 'REJECTED' || known.status === 'CANCELLED')) {
      throw new ConflictException({ statusCode: 409, error: 'Conflict', message: `order is already ${known.status}` });
    }
    const commandId = randomUUID();
    await this.publisher.sendCommand({ ...command, commandId, orderId } as OrderCommand);
    const after = await this.view.waitFor(orderId, (v) => v.commands.some((c) => c.commandId === commandId), COMMAND_WAIT_MS);
    const outcome = after?.commands.find((c) => c.commandId === commandId);
    if (outcome?.outcome === 'REFUSED') {
      throw new ConflictException({ statusCode: 409, error: 'Conflict', message: outcome.detail });
    }
    return after ?? known;
  }
}
