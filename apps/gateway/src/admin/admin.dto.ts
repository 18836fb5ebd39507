import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class ListUsersQuery {
  @ApiPropertyOptional({ default: 50, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;

  @ApiPropertyOptional({ description: 'substring of username or email' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  filter?: string;
}

export class UpdateUserBody {
  @ApiPropertyOptional({ enum: ['basic', 'premium', 'admin'] })
  @IsOptional()
  @IsIn(['basic', 'premium', 'admin'])
  role?: string;

  @ApiPropertyOptional({ description: 'false deactivates the account: no login, and its tokens stop working' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({
    description: 'bytes; -1 returns to the default of the role (basic 100 GiB, premium 1 TiB, admin unlimited)',
  })
  @IsOptional()
  @IsInt()
  @Min(-1)
  quota_bytes?: number;
}
