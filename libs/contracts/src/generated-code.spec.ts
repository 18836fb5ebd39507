import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const REPO_ROOT = join(__dirname, '../../..');
const GENERATED_DIR = join(REPO_ROOT, 'libs/contracts/src/generated');

function filesBelow(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesBelow(path) : [path];
  });
}

describe('generated contracts', () => {
  it('match what ts-proto generates from proto/ now (run `npm run proto:generate` after changing a proto)', () => {
    const out = mkdtempSync(join(tmpdir(), 'cloudstore-proto-'));
    try {
      execFileSync(join(REPO_ROOT, 'node_modules/.bin/buf'), ['generate', '--output', out], { cwd: REPO_ROOT, stdio: 'pipe' });
      const regenerated = join(out, 'libs/contracts/src/generated');
      const expected = filesBelow(regenerated)
        .map((f) => relative(regenerated, f))
        .sort();
      const actual = filesBelow(GENERATED_DIR)
        .map((f) => relative(GENERATED_DIR, f))
        .sort();
      expect(actual).toEqual(expected);
      for (const file of expected) {
        expect({ file, content: readFileSync(join(GENERATED_DIR, file), 'utf8') }).toEqual({
          file,
          content: readFileSync(join(regenerated, file), 'utf8'),
        });
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
