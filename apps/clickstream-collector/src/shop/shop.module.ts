import { Module } from '@nestjs/common';
import { ShopController } from './shop.controller';

/** The demo shop that sends clickstream events to this collector. */
@Module({ controllers: [ShopController] })
export class ShopModule {}
