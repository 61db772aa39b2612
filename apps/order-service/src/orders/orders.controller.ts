import { Body, Controller, Get, Headers, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query, Res, ServiceUnavailableException, UsePipes } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiConflictResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiPayloadTooLargeResponse, ApiQuery, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Logger } from '@app/logging';
import { LOGGER } from '@app/platform';
import { CancelOrderDto, OrderAcceptedDto, OrderViewDto, PlaceOrderDto, ReviewDecisionDto } from './dto/place-order.dto';
import { PublishUnavailableError } from './order-publisher';
import { OrdersService, publicView } from './orders.service';
import { strictValidationPipe } from './validation';

const RETRY_AFTER_SECONDS = '2';
const MAX_WAIT_MS = 30_000;

function unavailable(res: Response, err: unknown, logger: Logger): never {
  if (err instanceof PublishUnavailableError) {
    // The client only learns "retry later"; the operator needs the cause (broker or registry).
    logger.warn('order not accepted: OrderPlaced was not acknowledged', { error: err.message });
    res.setHeader('Retry-After', RETRY_AFTER_SECONDS);
    throw new ServiceUnavailableException({ statusCode: 503, error: 'Service Unavailable', message: 'Kafka or the schema registry is unavailable; retry with the same Idempotency-Key' });
  }
  throw err;
}

@ApiTags('orders')
@Controller('orders')
@UsePipes(strictValidationPipe())
export class OrdersController {
  constructor(
    private readonly orders: OrdersService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Same key and body: same order, nothing new published. Same key, other body: 409.' })
  @ApiHeader({ name: 'X-Client-Country', required: false, description: 'ISO 3166-1 alpha-2 country of the client IP' })
  @ApiAcceptedResponse({ type: OrderAcceptedDto, description: 'OrderPlaced was acknowledged by Kafka' })
  @ApiBadRequestResponse({ description: 'Names each bad field, unknown fields included' })
  @ApiConflictResponse({ description: 'Idempotency-Key reused with another body' })
  @ApiPayloadTooLargeResponse({ description: 'Body over 1 MiB' })
  @ApiServiceUnavailableResponse({ description: 'Kafka or the schema registry unavailable; Retry-After says when to retry' })
  async place(
    @Body() body: PlaceOrderDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('x-client-country') clientCountry: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OrderAcceptedDto> {
    try {
      const accepted = await this.orders.place(body, idempotencyKey, clientCountry);
      if (accepted.replayed) res.setHeader('Idempotent-Replayed', 'true');
      return { orderId: accepted.orderId, status: accepted.status };
    } catch (err) {
      unavailable(res, err, this.logger);
    }
  }

  @Get(':id')
  @ApiQuery({ name: 'waitForFinal', required: false, type: Boolean, description: 'Long-poll until CONFIRMED, REJECTED or CANCELLED' })
  @ApiQuery({ name: 'timeoutMs', required: false, type: Number, description: `Long-poll limit, at most ${MAX_WAIT_MS}` })
  @ApiOkResponse({ type: OrderViewDto })
  @ApiNotFoundResponse()
  async get(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query('waitForFinal') waitForFinal?: string,
    @Query('timeoutMs') timeoutMs?: string,
  ): Promise<OrderViewDto> {
    const wait = waitForFinal === 'true' || waitForFinal === '1';
    const limit = Math.min(MAX_WAIT_MS, Math.max(0, Number.parseInt(timeoutMs ?? '10000', 10) || 0));
    return publicView(await this.orders.get(id, wait, limit));
  }

  @Post(':id/review')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: OrderViewDto, description: 'The decision was applied by the order’s single writer' })
  @ApiConflictResponse({ description: 'The order is not in REVIEW' })
  @ApiNotFoundResponse()
  async review(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: ReviewDecisionDto, @Res({ passthrough: true }) res: Response): Promise<OrderViewDto> {
    try {
      return publicView(await this.orders.command(id, { type: 'REVIEW', decision: body.decision }));
    } catch (err) {
      unavailable(res, err, this.logger);
    }
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: OrderViewDto, description: 'Cancelled; reserved stock is released' })
  @ApiConflictResponse({ description: 'Already final, or confirmed and past the cancel window' })
  @ApiNotFoundResponse()
  async cancel(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: CancelOrderDto, @Res({ passthrough: true }) res: Response): Promise<OrderViewDto> {
    try {
      return publicView(await this.orders.command(id, { type: 'CANCEL', reason: body.reason ?? 'cancelled by the customer' }));
    } catch (err) {
      unavailable(res, err, this.logger);
    }
  }
}
