import { loggableUrl } from './problem-details.filter';

describe('loggableUrl', () => {
  it('drops the query and a download link’s secret, and keeps the rest of the path', () => {
    expect(loggableUrl('/v1/files/abc/content?x=1')).toBe('/v1/files/abc/content');
    expect(loggableUrl('/v1/links/Qm9vcyBhbmQgc2VjcmV0cyBzaG91bGQgbm90IGJlIGxvZ2dlZA?password=hunter2')).toBe(
      '/v1/links/<secret>',
    );
    expect(loggableUrl('/V1/Links/Qm9vcyBhbmQgc2VjcmV0cyBzaG91bGQgbm90IGJlIGxvZ2dlZA')).toBe('/v1/links/<secret>');
    expect(loggableUrl('/v1/files/abc/links/123')).toBe('/v1/files/abc/links/123');
  });
});
