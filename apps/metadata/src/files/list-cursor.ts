import { InvalidArgumentError } from '@cloudstore/contracts';
import { isUuid } from '../uuid';
import type { ListPosition } from './files.repository';

const MICROS = /^\d{1,17}$/;

function invalid(): InvalidArgumentError {
  return new InvalidArgumentError('after must be the next_cursor of a listing');
}

/**
 * The cursor a listing page hands out for the next one: its last file's place in the newest-first
 * order, opaque to clients (base64url), checked in full when it comes back.
 */
export const listCursor = {
  encode(position: ListPosition): string {
    return Buffer.from(`${position.uploadedAtMicros}.${position.id}`).toString('base64url');
  },

  decode(cursor: string): ListPosition {
    if (cursor.length > 128) throw invalid();
    const [uploadedAtMicros = '', id = '', ...rest] = Buffer.from(cursor, 'base64url').toString().split('.');
    if (rest.length > 0 || !MICROS.test(uploadedAtMicros) || !isUuid(id)) throw invalid();
    return { uploadedAtMicros, id };
  },
};
