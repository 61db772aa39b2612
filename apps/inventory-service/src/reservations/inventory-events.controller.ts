import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { topics, type OrderCancelled, type OrderPlaced, type OrderRejected } from '@app/contracts';
import type { HandlerContext, InboundRecord } from '@app/runtime';
import { InventoryHandlers } from './inventory.handlers';
import { SKU_REPLIES_TOPIC, SKU_REQUESTS_TOPIC, type SkuReplyMessage, type SkuRequestMessage } from './inventory-topics';

/** Kafka inputs: order topics and replies (keyed by orderId), SKU requests (keyed by sku). */
@Controller()
export class InventoryEventsController {
  constructor(private readonly inventory: InventoryHandlers) {}

  @EventPattern(topics.orderPlaced.name)
  onOrderPlaced(@Payload() record: InboundRecord<OrderPlaced>, @Ctx() ctx: HandlerContext): void {
    this.inventory.onOrderPlaced(record, ctx);
  }

  @EventPattern(topics.orderRejected.name)
  onOrderRejected(@Payload() record: InboundRecord<OrderRejected>, @Ctx() ctx: HandlerContext): void {
    this.inventory.onOrderRejected(record, ctx);
  }

  @EventPattern(topics.orderCancelled.name)
  onOrderCancelled(@Payload() record: InboundRecord<OrderCancelled>, @Ctx() ctx: HandlerContext): void {
    this.inventory.onOrderCancelled(record, ctx);
  }

  @EventPattern(SKU_REPLIES_TOPIC)
  onSkuReply(@Payload() record: InboundRecord<SkuReplyMessage>, @Ctx() ctx: HandlerContext): void {
    this.inventory.onSkuReply(record, ctx);
  }

  @EventPattern(SKU_REQUESTS_TOPIC)
  onSkuRequest(@Payload() record: InboundRecord<SkuRequestMessage>, @Ctx() ctx: HandlerContext): void {
    this.inventory.onSkuRequest(record, ctx);
  }
}
