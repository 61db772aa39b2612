import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { topics, type OrderPlaced } from '@app/contracts';
import type { HandlerContext, InboundRecord } from '@app/runtime';
import type { FraudCase } from './fraud-rules';
import { BY_CUSTOMER_TOPIC, BY_FINGERPRINT_TOPIC, BY_SESSION_TOPIC, FraudHandlers } from './fraud.handlers';

/** Placed orders in, then the three repartitioned window stages; the last one publishes FraudAssessed. */
@Controller()
export class FraudEventsController {
  constructor(private readonly fraud: FraudHandlers) {}

  @EventPattern(topics.orderPlaced.name)
  onOrderPlaced(@Payload() record: InboundRecord<OrderPlaced>, @Ctx() ctx: HandlerContext): void {
    this.fraud.onOrderPlaced(record, ctx);
  }

  @EventPattern(BY_CUSTOMER_TOPIC)
  onByCustomer(@Payload() record: InboundRecord<FraudCase>, @Ctx() ctx: HandlerContext): void {
    this.fraud.onByCustomer(record, ctx);
  }

  @EventPattern(BY_FINGERPRINT_TOPIC)
  onByFingerprint(@Payload() record: InboundRecord<FraudCase>, @Ctx() ctx: HandlerContext): void {
    this.fraud.onByFingerprint(record, ctx);
  }

  @EventPattern(BY_SESSION_TOPIC)
  onBySession(@Payload() record: InboundRecord<FraudCase>, @Ctx() ctx: HandlerContext): void {
    this.fraud.onBySession(record, ctx);
  }
}
