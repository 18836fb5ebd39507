import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, Min } from 'class-validator';
import { PageQuery } from '../http/page.query';

export class ListUsersQuery extends PageQuery {}

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
