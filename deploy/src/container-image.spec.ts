import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Dockerfile, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { appOfCommand, REPO_ROOT, sourceOfScriptExists } from './manifests';

/** deploy/Dockerfile as its parser reads it, and its stages with the instructions of each. */
function readDockerfile(): { dockerfile: Dockerfile; stages: { image: string; name?: string; instructions: Instruction[] }[] } {
  const dockerfile = DockerfileParser.parse(readFileSync(join(REPO_ROOT, 'deploy/Dockerfile'), 'utf8'));
  // The ARGs before the first FROM, which FROM lines may name.
  const firstFrom = dockerfile.getInstructions().findIndex((i) => i.getKeyword() === 'FROM');
  const args = new Map(
    dockerfile
      .getInstructions()
      .slice(0, firstFrom)
      .filter((i) => i.getKeyword() === 'ARG')
      .map((i) => (i.getArgumentsContent() ?? '').split('=') as [string, string]),
  );
  const stages: { image: string; name?: string; instructions: Instruction[] }[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const [image = '', , name] = (instruction.getArgumentsContent() ?? '').split(/\s+/);
      stages.push({ image: image.replace(/^\$\{(\w+)\}$/, (_, arg: string) => args.get(arg) ?? ''), name, instructions: [] });
    } else stages.at(-1)?.instructions.push(instruction);
  }
  return { dockerfile, stages };
}

describe('deploy/Dockerfile', () => {
  const { dockerfile, stages } = readDockerfile();
  const final = stages.at(-1);
  const finalOf = (keyword: string) => final?.instructions.filter((i) => i.getKeyword() === keyword) ?? [];

  it('builds in one stage and runs from a slim Node 20+ image of a fixed tag in another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const { image } of stages) {
      const [name, tag = ''] = image.split(':');
      expect(name).toBe('node');
      expect(tag).toMatch(/^(2\d|[3-9]\d)\.\d+[\w.-]*-slim$/);
      expect(tag).not.toContain('latest');
    }
  });

  it('builds from the lock file and ships dist and proto', () => {
    const build = stages.find((s) => s !== final && s.name);
    expect(build?.instructions.some((i) => i.getKeyword() === 'RUN' && /^npm ci\b/.test(i.getArgumentsContent() ?? ''))).toBe(
      true,
    );
    const shipped = dockerfile
      .getCOPYs()
      .filter((c) => final?.instructions.includes(c))
      .map((c) => c.getArgumentsContent());
    expect(shipped).toEqual(expect.arrayContaining(['/app/dist ./dist', '/app/proto ./proto']));
  });

  it('carries only what the build stage made, with production dependencies alone', () => {
    const build = stages.find((s) => s !== final && s.name);
    const runs = build?.instructions.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? '') ?? [];
    expect(runs.some((r) => r.includes('npm prune --omit=dev'))).toBe(true);
    expect(finalOf('RUN').some((i) => /\bnpm (ci|install)\b/.test(i.getArgumentsContent() ?? ''))).toBe(false);
    const copies = dockerfile.getCOPYs().filter((c) => final?.instructions.includes(c));
    expect(copies.length).toBeGreaterThan(0);
    expect(copies.every((c) => c.getFromFlag()?.getValue() === build?.name)).toBe(true);
    expect(dockerfile.getInstructions().some((i) => i.getKeyword() === 'ADD')).toBe(false);
  });

  it('runs as a fixed non-root uid, writing only to its data volume', () => {
    const [user] = finalOf('USER');
    expect(user?.getArgumentsContent()).toMatch(/^[1-9]\d{3,}:[1-9]\d{3,}$/);
    expect(finalOf('VOLUME').map((v) => v.getArgumentsContent())).toEqual(['["/data"]']);
    expect(
      finalOf('ENV')
        .map((e) => e.getArgumentsContent())
        .join(' '),
    ).toContain('DATA_DIR=/data');
  });

  it('stops on SIGTERM, checks its health, and starts a service that exists', () => {
    expect(finalOf('STOPSIGNAL').map((s) => s.getArgumentsContent())).toEqual(['SIGTERM']);
    expect(dockerfile.getHEALTHCHECKs()).toHaveLength(1);
    const [cmd] = finalOf('CMD');
    const command = JSON.parse(cmd?.getArgumentsContent() ?? '[]') as string[];
    expect(appOfCommand(command)).toBe('gateway');
    expect(sourceOfScriptExists(command[1] ?? '')).toBe(true);
  });

  it('holds no secret in its environment', () => {
    const env = dockerfile
      .getInstructions()
      .filter((i) => i.getKeyword() === 'ENV' || i.getKeyword() === 'ARG')
      .map((i) => i.getArgumentsContent() ?? '');
    expect(env.filter((e) => /PASSWORD|SECRET|MASTER_KEY|TOKEN/i.test(e))).toEqual([]);
  });
});
