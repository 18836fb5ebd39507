import { randomUUID } from 'node:crypto';
import { listCursor } from './list-cursor';

describe('listCursor', () => {
  it('gives back the position it was made of', () => {
    const position = { atMicros: '1796224249123456', id: randomUUID() };
    const cursor = listCursor.encode(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(listCursor.decode(cursor)).toEqual(position);
  });

  it.each([
    ['not base64url of a position', 'hello'],
    ['a time that is not a number', Buffer.from(`12ab.${randomUUID()}`).toString('base64url')],
    ['an id that is not a UUID', Buffer.from('1796224249123456.1; DROP TABLE').toString('base64url')],
    ['more parts', Buffer.from(`1.${randomUUID()}.x`).toString('base64url')],
    ['too long', 'A'.repeat(200)],
  ])('refuses %s with INVALID_ARGUMENT', (_case, cursor) => {
    expect(() => listCursor.decode(cursor)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error);
  });
});
