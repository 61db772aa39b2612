import { randomUUID } from 'node:crypto';
import { BadRequestException, Body, Controller, Get, HttpCode, NotFoundException, Param, Put, Res, ServiceUnavailableException, ValidationPipe, UsePipes } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ID_PATTERN, SetStockDto, StockLevelDto } from './stock.dto';
import { StockCommandsPublisher, StockUnavailableError } from './stock-commands.publisher';
import { StockLevelView } from './stock-level.view';

const APPLY_WAIT_MS = 10_000;

function checkSku(sku: string): void {
  if (!ID_PATTERN.test(sku)) {
    throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'invalid fields: sku', fields: [{ field: 'sku', problems: ['sku must be 1-64 letters, digits or . _ : -'] }] });
  }
}

@ApiTags('stock')
@Controller('stock')
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }))
export class StockController {
  constructor(
    private readonly commands: StockCommandsPublisher,
    private readonly view: StockLevelView,
  ) {}

  /** Sets a warehouse's count; answers once the SKU's single writer applied it (else 202). */
  @Put(':sku')
  @HttpCode(200)
  @ApiOkResponse({ type: StockLevelDto })
  @ApiBadRequestResponse()
  async set(@Param('sku') sku: string, @Body() body: SetStockDto, @Res({ passthrough: true }) res: Response): Promise<StockLevelDto | { sku: string; accepted: true }> {
    checkSku(sku);
    const requestId = randomUUID();
    const applied = this.view.waitForCorrelation(requestId, APPLY_WAIT_MS);
    try {
      await this.commands.send({ type: 'SET_ON_HAND', sku, warehouseId: body.warehouseId, onHand: body.onHand, requestId });
    } catch (err) {
      if (err instanceof StockUnavailableError) {
        res.setHeader('Retry-After', '2');
        throw new ServiceUnavailableException({ statusCode: 503, error: 'Service Unavailable', message: 'Kafka is unavailable' });
      }
      throw err;
    }
    if (await applied) return this.view.get(sku)!;
    res.status(202);
    return { sku, accepted: true };
  }

  @Get(':sku')
  @ApiOkResponse({ type: StockLevelDto })
  @ApiNotFoundResponse()
  get(@Param('sku') sku: string): StockLevelDto {
    checkSku(sku);
    const level = this.view.get(sku);
    if (!level) throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `no stock known for ${sku}` });
    return level;
  }
}
