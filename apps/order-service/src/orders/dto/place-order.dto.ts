import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO31661Alpha2,
  IsISO4217CurrencyCode,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { PaymentMethodTypeValues, SalesChannelValues, type PaymentMethodType, type SalesChannel } from '@app/contracts';

/** Money as a decimal string with at most two fraction digits, e.g. "12.50" (never a float). */
export const MONEY_PATTERN = /^\d{1,15}(\.\d{1,2})?$/;
const MONEY_MESSAGE = '$property must be a decimal string with at most 2 decimals, e.g. "12.50"';
const ID_PATTERN = /^[A-Za-z0-9._:-]+$/;
const ID_MESSAGE = '$property may contain only letters, digits and . _ : -';

const PAYMENT_TYPES = PaymentMethodTypeValues.filter((t) => t !== 'UNKNOWN');
const CHANNELS = SalesChannelValues.filter((c) => c !== 'UNKNOWN');

export class LineItemDto {
  @ApiProperty({ example: 'SKU-123', maxLength: 64 })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(ID_PATTERN, { message: ID_MESSAGE })
  sku!: string;

  @ApiProperty({ example: 2, minimum: 1, maximum: 10_000 })
  @IsInt()
  @Min(1)
  @Max(10_000)
  quantity!: number;

  @ApiProperty({ example: '12.50', pattern: MONEY_PATTERN.source, description: 'Unit price, decimal string' })
  @IsString()
  @Matches(MONEY_PATTERN, { message: MONEY_MESSAGE })
  unitPrice!: string;
}

export class PaymentDto {
  @ApiProperty({ enum: PAYMENT_TYPES, example: 'CARD' })
  @IsIn(PAYMENT_TYPES)
  type!: PaymentMethodType;

  @ApiProperty({ example: 'fp_8c1f2a', maxLength: 128, description: 'Token identifying the payment instrument' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  fingerprint!: string;
}

/** The body of `POST /orders`: validated by these decorators and documented at /docs from the same class. */
export class PlaceOrderDto {
  @ApiProperty({ example: 'cust-42', maxLength: 64 })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(ID_PATTERN, { message: ID_MESSAGE })
  customerId!: string;

  @ApiProperty({ example: 'EUR', description: 'ISO 4217 code' })
  @IsISO4217CurrencyCode()
  currency!: string;

  @ApiProperty({ type: [LineItemDto], minItems: 1, maxItems: 100 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => LineItemDto)
  items!: LineItemDto[];

  @ApiPropertyOptional({ example: '4.90', pattern: MONEY_PATTERN.source })
  @IsOptional()
  @IsString()
  @Matches(MONEY_PATTERN, { message: MONEY_MESSAGE })
  shippingTotal?: string;

  @ApiPropertyOptional({ example: '3.10', pattern: MONEY_PATTERN.source })
  @IsOptional()
  @IsString()
  @Matches(MONEY_PATTERN, { message: MONEY_MESSAGE })
  taxTotal?: string;

  @ApiProperty({ example: 'DE', description: 'ISO 3166-1 alpha-2' })
  @IsISO31661Alpha2()
  shippingCountry!: string;

  @ApiProperty({ example: 'DE', description: 'ISO 3166-1 alpha-2' })
  @IsISO31661Alpha2()
  billingCountry!: string;

  @ApiProperty({ type: PaymentDto })
  @ValidateNested()
  @Type(() => PaymentDto)
  payment!: PaymentDto;

  @ApiProperty({ enum: CHANNELS, example: 'WEB' })
  @IsIn(CHANNELS)
  channel!: SalesChannel;

  @ApiPropertyOptional({ example: 'sess-9f2', maxLength: 128 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  sessionId?: string;
}

export class OrderAcceptedDto {
  @ApiProperty({ example: '6f1c7a9e-2b7d-4b8e-9a51-3c0d2f6b8e11' })
  orderId!: string;

  @ApiProperty({ example: 'PENDING', enum: ['PENDING', 'REVIEW', 'CONFIRMED', 'REJECTED', 'CANCELLED'] })
  status!: string;
}

export class ReasonDto {
  @ApiProperty({ example: 'OUT_OF_STOCK', enum: ['OUT_OF_STOCK', 'FRAUD_DECLINED', 'FRAUD_REVIEW', 'TIMEOUT', 'CANCELLED'] })
  code!: string;

  @ApiProperty({ example: 'SKU-123: requested 3, available 1' })
  detail!: string;
}

export class OrderViewDto {
  @ApiProperty() orderId!: string;
  @ApiProperty({ enum: ['PENDING', 'REVIEW', 'CONFIRMED', 'REJECTED', 'CANCELLED'] }) status!: string;
  @ApiProperty({ type: [ReasonDto] }) reasons!: ReasonDto[];
  @ApiPropertyOptional() customerId?: string;
  @ApiPropertyOptional() currency?: string;
  @ApiPropertyOptional({ example: '28.00' }) grandTotal?: string;
  @ApiPropertyOptional({ format: 'date-time' }) placedAt?: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiPropertyOptional() fraudScore?: number;
  @ApiPropertyOptional() reservationId?: string;
}

export class ReviewDecisionDto {
  @ApiProperty({ enum: ['APPROVE', 'DECLINE'] })
  @IsIn(['APPROVE', 'DECLINE'])
  decision!: 'APPROVE' | 'DECLINE';
}

export class CancelOrderDto {
  @ApiPropertyOptional({ example: 'customer changed their mind', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}
