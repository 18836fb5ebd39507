import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';

export class UploadQuery {
  @ApiProperty({ example: 'report.pdf', description: 'stored sanitised: no path, no control characters, at most 255 bytes' })
  @IsString()
  @MaxLength(4096)
  filename!: string;

  @ApiPropertyOptional({ description: 'a UUID for the new file (a retry with the same id cannot create a duplicate)' })
  @IsOptional()
  @IsUUID()
  file_id?: string;
}

export class ListFilesQuery {
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

  @ApiPropertyOptional({ description: 'case-insensitive substring of the filename; % and _ match themselves' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  filter?: string;
}

export class FileInfoResult {
  @ApiProperty() file_id!: string;
  @ApiProperty() filename!: string;
  @ApiProperty() file_size!: number;
  @ApiProperty({ description: 'Unix seconds' }) uploaded_at!: number;
  @ApiProperty({ description: 'lowercase hex SHA-256 of the whole file' }) checksum!: string;
  @ApiProperty() content_type!: string;
  @ApiPropertyOptional({ type: [String] }) storage_nodes?: string[];
}
