import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';

export class DeleteAccountBody {
  @ApiProperty({ description: "the account's password, asked again" })
  @IsString()
  password!: string;
}

export class ErasureResultDto {
  @ApiProperty() success!: boolean;
  @ApiProperty({ description: 'the erased account' }) user_id!: string;
  @ApiProperty({ description: "the id the account's audit events now carry instead of it" }) pseudonym!: string;
  @ApiProperty({ description: 'live files and files in the trash erased' }) files_erased!: number;
}
