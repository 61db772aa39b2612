import { Controller, Inject, type OnModuleInit } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { topics, type FraudAssessed, type OrderPlaced, type StockReservationRejected, type StockReserved } from '@app/contracts';
import { KAFKA_TRANSPORT, type KafkaRuntimeTransport } from '@app/platform';
import type { HandlerContext, InboundRecord } from '@app/runtime';
import { OrderFanInHandlers } from './order-fan-in.handlers';
import type { OrderSettings } from './order-settings';
import { ORDER_SETTINGS } from './order-tokens';
import { ORDER_COMMANDS_TOPIC, type OrderCommand } from './order-topics';

/** The fan-in's Kafka inputs (all keyed by orderId, co-partitioned) and its timeout punctuation. */
@Controller()
export class OrderEventsController implements OnModuleInit {
  constructor(
    private readonly fanIn: OrderFanInHandlers,
    @Inject(KAFKA_TRANSPORT) private readonly transport: KafkaRuntimeTransport,
    @Inject(ORDER_SETTINGS) private readonly settings: OrderSettings,
  ) {}

  onModuleInit(): void {
    this.transport.punctuate(this.settings.timeoutCheckMs, (_task, ctx) => this.fanIn.punctuate(ctx));
  }

  @EventPattern(topics.orderPlaced.name)
  onOrderPlaced(@Payload() record: InboundRecord<OrderPlaced>, @Ctx() ctx: HandlerContext): void {
    this.fanIn.onOrderPlaced(record, ctx);
  }

  @EventPattern(topics.stockReserved.name)
  onStockReserved(@Payload() record: InboundRecord<StockReserved>, @Ctx() ctx: HandlerContext): void {
    this.fanIn.onStockReserved(record, ctx);
  }

  @EventPattern(topics.stockReservationRejected.name)
  onStockReservationRejected(@Payload() record: InboundRecord<StockReservationRejected>, @Ctx() ctx: HandlerContext): void {
    this.fanIn.onStockReservationRejected(record, ctx);
  }

  @EventPattern(topics.fraudAssessed.name)
  onFraudAssessed(@Payload() record: InboundRecord<FraudAssessed>, @Ctx() ctx: HandlerContext): void {
    this.fanIn.onFraudAssessed(record, ctx);
  }

  @EventPattern(ORDER_COMMANDS_TOPIC)
  onCommand(@Payload() record: InboundRecord<OrderCommand>, @Ctx() ctx: HandlerContext): void {
    this.fanIn.onCommand(record, ctx);
  }
}
