import { InvalidArgumentError } from '@cloudstore/contracts';
import { isUuid } from '../uuid';

const MICROS = /^\d{1,17}$/;

/** Where a newest-first keyset listing stands: the time and id of the last row listed. */
export interface ListPosition {
  /** Microseconds since the epoch, as decimal digits: exact, unlike a JavaScript Date. */
  readonly atMicros: string;
  readonly id: string;
}

export interface ListCursor {
  encode(position: ListPosition): string;
  decode(cursor: string): ListPosition;
}

/**
 * The cursor a listing page hands out for the next one: its last row's place in the newest-first
 * order, opaque to clients (base64url), checked in full when it comes back. `parameter` names the
 * request field the cursor comes back in, for the error; `isId` checks the row id's form.
 */
export function keysetCursor(parameter: string, isId: (id: string) => boolean): ListCursor {
  const invalid = () => new InvalidArgumentError(`${parameter} must be the next_cursor of a listing`);
  return {
    encode(position) {
      return Buffer.from(`${position.atMicros}.${position.id}`).toString('base64url');
    },
    decode(cursor) {
      if (cursor.length > 128) throw invalid();
      const [atMicros = '', id = '', ...rest] = Buffer.from(cursor, 'base64url').toString().split('.');
      if (rest.length > 0 || !MICROS.test(atMicros) || !isId(id)) throw invalid();
      return { atMicros, id };
    },
  };
}

/** The cursor of file listings (`after`): files are keyed by their internal UUID. */
export const listCursor = keysetCursor('after', isUuid);
