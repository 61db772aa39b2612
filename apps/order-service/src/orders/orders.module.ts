import { Module, type DynamicModule } from '@nestjs/common';
import { OrderEventsController } from './order-events.controller';
import { OrderFanInHandlers } from './order-fan-in.handlers';
import { OrderPublisher } from './order-publisher';
import type { OrderSettings } from './order-settings';
import { OrderStateView } from './order-state.view';
import { ORDER_SETTINGS } from './order-tokens';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';

/** Orders: HTTP (place, read, review, cancel) and the fan-in that decides every order once. */
@Module({})
export class OrdersModule {
  static forRoot(settings: OrderSettings): DynamicModule {
    return {
      module: OrdersModule,
      controllers: [OrdersController, OrderEventsController],
      providers: [
        { provide: ORDER_SETTINGS, useValue: settings },
        { provide: OrderFanInHandlers, useValue: new OrderFanInHandlers(settings) },
        OrderPublisher,
        OrderStateView,
        OrdersService,
      ],
    };
  }
}
