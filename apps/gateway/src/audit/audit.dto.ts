import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, MaxLength, Min } from 'class-validator';
import { PageQuery } from '../http/page.query';

/** `?limit=&cursor=&operation=&outcome=&from=&to=` of GET /v1/audit. */
export class AuditQuery extends PickType(PageQuery, ['limit'] as const) {
  @ApiPropertyOptional({ description: 'the next_cursor of the page before; the page starts after its last event' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  cursor?: string;

  @ApiPropertyOptional({ example: 'file.*', description: 'an operation (file.upload), or a prefix of one ending in * (file.*)' })
  @IsOptional()
  @Matches(/^[a-z0-9_.]{1,128}\*?$|^\*$/, {
    message: 'operation must be an operation such as file.upload, or a prefix of one ending in *, such as file.*',
  })
  operation?: string;

  @ApiPropertyOptional({ enum: ['success', 'failure'] })
  @IsOptional()
  @IsIn(['success', 'failure'])
  outcome?: string;

  @ApiPropertyOptional({ description: 'Unix seconds: events at or after this' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  from?: number;

  @ApiPropertyOptional({ description: 'Unix seconds: events before this' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  to?: number;
}

/** GET /v1/admin/audit: the same, and one user's events. */
export class AdminAuditQuery extends AuditQuery {
  @ApiPropertyOptional({ description: "one user's events; everyone's when absent" })
  @IsOptional()
  @IsUUID()
  user_id?: string;
}

export class AuditEventResult {
  @ApiProperty() event_id!: string;
  @ApiProperty({ description: 'Unix seconds' }) occurred_at!: number;
  @ApiProperty({ example: 'file.upload' }) operation!: string;
  @ApiProperty({ enum: ['success', 'failure'] }) outcome!: string;
  @ApiPropertyOptional({ description: 'the error code of a failure' }) error_code?: string;
  @ApiPropertyOptional({ description: 'who acted' }) user_id?: string;
  @ApiPropertyOptional() username?: string;
  @ApiPropertyOptional() client_address?: string;
  @ApiPropertyOptional() user_agent?: string;
  @ApiPropertyOptional({ description: 'the file concerned' }) file_id?: string;
  @ApiPropertyOptional() filename?: string;
  @ApiPropertyOptional() size_bytes?: number;
  @ApiPropertyOptional({ description: 'the sign-in concerned' }) session_id?: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'more about the event; never a secret' })
  details!: Record<string, string>;
}

export class AuditPageResult {
  @ApiProperty({ type: [AuditEventResult] }) events!: AuditEventResult[];
  @ApiPropertyOptional({ description: 'the cursor of the next page; absent after the last page' }) next_cursor?: string;
}
