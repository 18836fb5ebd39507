import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-body.middleware';

function nested(depth: number): unknown {
  return JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);
}

describe(jsonDepthExceeds.name, () => {
  it('accepts the flat bodies of our routes and nesting up to the limit', () => {
    expect(jsonDepthExceeds({ username: 'alice', password: 'x' }, MAX_JSON_DEPTH)).toBe(false);
    expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
  });

  it('refuses JSON nested ~9,000 deep (under 64 KiB) without overflowing the stack itself', () => {
    expect(jsonDepthExceeds(nested(9000), MAX_JSON_DEPTH)).toBe(true);
    expect(jsonDepthExceeds({ username: JSON.parse(`${'{"a":'.repeat(9000)}1${'}'.repeat(9000)}`) }, MAX_JSON_DEPTH)).toBe(true);
  });
});
