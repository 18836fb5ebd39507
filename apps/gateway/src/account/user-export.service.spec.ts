import { MAX_PAGE_SIZE, type filesApi } from '@cloudstore/contracts';
import { archivePaths, everyOffsetPage, everyPage } from './user-export.service';

function file(fileId: string, filename: string): filesApi.FileRecord {
  return { fileId, filename } as filesApi.FileRecord;
}

describe('the export', () => {
  it('puts files under their names, and later ones of a name (in any case) under their id', () => {
    const paths = archivePaths([file('a', 'Report.pdf'), file('b', 'report.pdf'), file('c', 'Report.pdf'), file('d', 'x')]);
    expect([...paths.values()]).toEqual(['files/Report.pdf', 'files/b/report.pdf', 'files/c/Report.pdf', 'files/x']);
  });

  it('reads keyset listings to the end, a full last page included', async () => {
    const pages = new Map([
      ['', { items: Array.from({ length: MAX_PAGE_SIZE }, (_, i) => i), next: 'p2' }],
      ['p2', { items: Array.from({ length: MAX_PAGE_SIZE }, (_, i) => MAX_PAGE_SIZE + i), next: '' }],
    ]);
    const asked: string[] = [];
    const all = await everyPage(async (cursor) => {
      asked.push(cursor);
      return Promise.resolve(pages.get(cursor) ?? { items: [], next: '' });
    });
    expect(all).toHaveLength(2 * MAX_PAGE_SIZE);
    expect(asked).toEqual(['', 'p2']);
  });

  it('reads offset listings until a page is not full', async () => {
    const rows = Array.from({ length: 2 * MAX_PAGE_SIZE }, (_, i) => i);
    const offsets: number[] = [];
    const all = await everyOffsetPage(async (limit, offset) => {
      offsets.push(offset);
      return Promise.resolve(rows.slice(offset, offset + limit));
    });
    expect(all).toEqual(rows);
    expect(offsets).toEqual([0, MAX_PAGE_SIZE, 2 * MAX_PAGE_SIZE]);
  });
});
