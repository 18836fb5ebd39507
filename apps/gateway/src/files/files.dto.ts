import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { PageQuery } from '../http/page.query';

export class UploadQuery {
  @ApiProperty({ example: 'report.pdf', description: 'stored sanitised: no path, no control characters, at most 255 bytes' })
  @IsString()
  @MaxLength(4096)
  filename!: string;

  @ApiPropertyOptional({
    description:
      'a UUID for the new file, or the id of a file of yours: the upload is then its new version (the one before is kept)',
  })
  @IsOptional()
  @IsUUID()
  file_id?: string;
}

export class ListFilesQuery extends PageQuery {
  @ApiPropertyOptional({
    description:
      'the next_cursor of the page before: the page starts after its last file, however many files came or went meanwhile (instead of offset)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  after?: string;
}

/** `?limit=&offset=` of the trash listing. */
export class TrashQuery extends OmitType(PageQuery, ['filter'] as const) {}

export class FileInfoResult {
  @ApiProperty() file_id!: string;
  @ApiProperty() filename!: string;
  @ApiProperty() file_size!: number;
  @ApiProperty({ description: 'Unix seconds' }) uploaded_at!: number;
  @ApiProperty({ description: 'lowercase hex SHA-256 of the whole file' }) checksum!: string;
  @ApiProperty() content_type!: string;
  @ApiPropertyOptional({ type: [String] }) storage_nodes?: string[];
  @ApiPropertyOptional({ description: 'files in the trash: when deleted (Unix seconds)' }) deleted_at?: number;
  @ApiPropertyOptional({ description: 'files in the trash: when they will be purged (Unix seconds)' }) purge_at?: number;
  @ApiPropertyOptional({ description: "another user's file shared with the caller: the owner's username" }) shared_by?: string;
  @ApiProperty({ description: "the version of the file's content, 1 for its first" }) version!: number;
}

export class VersionResult {
  @ApiProperty({ description: "the version's number, as text: it never changes" }) version_id!: string;
  @ApiProperty() version!: number;
  @ApiProperty() file_size!: number;
  @ApiProperty({ description: 'lowercase hex SHA-256 of the version' }) checksum!: string;
  @ApiProperty({ description: 'Unix seconds' }) uploaded_at!: number;
  @ApiProperty() filename!: string;
  @ApiProperty() content_type!: string;
  @ApiProperty({ description: "the file's content now" }) current!: boolean;
}
