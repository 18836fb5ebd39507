import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allConfigVariables } from './app-schemas';

describe('the README configuration tables', () => {
  const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Configuration'),
    readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1),
  );
  const documented = new Set(
    [...section.matchAll(/^\| (.+?) \|/gm)].flatMap((row) => [...(row[1] ?? '').matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1])),
  );

  it('name every variable a cloudstore process reads, and nothing else', () => {
    expect([...allConfigVariables()].filter((v) => !documented.has(v)).sort()).toEqual([]);
    expect([...documented].filter((v) => !allConfigVariables().has(v)).sort()).toEqual([]);
  });
});
