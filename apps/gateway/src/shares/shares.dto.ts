import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQuery } from '../http/page.query';
import { FileInfoResult } from '../files/files.dto';

export class ShareFileBody {
  @ApiProperty({ description: "the grantee's username" })
  @IsString()
  @MaxLength(64)
  username!: string;

  @ApiPropertyOptional({
    enum: ['read'],
    default: 'read',
    description: 'list, get and download; the owner alone changes or deletes',
  })
  @IsOptional()
  @IsIn(['read'])
  permission?: 'read';
}

export class ShareResult {
  @ApiProperty() file_id!: string;
  @ApiProperty({ description: 'the grantee' }) username!: string;
  @ApiProperty({ enum: ['read'] }) permission!: string;
  @ApiProperty({ description: 'Unix seconds' }) created_at!: number;
}

export class SharedFileResult extends FileInfoResult {
  @ApiProperty({ description: "the owner's username" }) declare shared_by: string;
  @ApiProperty({ enum: ['read'] }) permission!: string;
  @ApiProperty({ description: 'Unix seconds' }) shared_at!: number;
}

/** `?limit=&offset=` of the shared-with-me listing. */
export class SharedWithMeQuery extends OmitType(PageQuery, ['filter'] as const) {}
