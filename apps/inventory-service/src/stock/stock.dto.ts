import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';

export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

export class SetStockDto {
  @ApiProperty({ example: 'WH-BERLIN-1' })
  @IsString()
  @Matches(ID_PATTERN, { message: '$property must be 1-64 letters, digits or . _ : -' })
  warehouseId!: string;

  @ApiProperty({ example: 120, minimum: 0 })
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  onHand!: number;
}

export class StockLevelDto {
  @ApiProperty() sku!: string;
  @ApiProperty({ description: 'Units in all warehouses' }) onHand!: number;
  @ApiProperty({ description: 'Units held by open reservations' }) reserved!: number;
  @ApiProperty({ description: 'onHand - reserved' }) available!: number;
}
