import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_LINK_LIFETIME_SECONDS, MAX_LINK_PASSWORD_LENGTH } from './download-links.service';

export class CreateLinkBody {
  @ApiProperty({ minimum: 1, maximum: MAX_LINK_LIFETIME_SECONDS, description: 'how long the link works' })
  @IsInt()
  @Min(1)
  @Max(MAX_LINK_LIFETIME_SECONDS)
  expires_in_seconds!: number;

  @ApiPropertyOptional({ description: 'asked of whoever opens the link (HTTP Basic, any user name)' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_LINK_PASSWORD_LENGTH)
  password?: string;
}

export class LinkResult {
  @ApiProperty() link_id!: string;
  @ApiProperty() file_id!: string;
  @ApiPropertyOptional({ description: 'only in the answer that makes the link: only its hash is kept' }) url?: string;
  @ApiProperty({ description: 'Unix seconds' }) expires_at!: number;
  @ApiProperty({ description: 'Unix seconds' }) created_at!: number;
  @ApiProperty() has_password!: boolean;
}
