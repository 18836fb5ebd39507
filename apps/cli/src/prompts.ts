import { createInterface, type Interface } from 'node:readline';
import input from '@inquirer/input';
import password from '@inquirer/password';

/**
 * Where answers come from: prompts on the terminal (secrets without echo), or, for scripts
 * (`--password-stdin`, or no terminal), one line of standard input per question, in order.
 */
export class Answers {
  private lines: Interface | undefined;
  private readonly waiting: ((line: string | undefined) => void)[] = [];
  private readonly buffered: string[] = [];
  private ended = false;

  constructor(private readonly fromStdin: boolean) {}

  /** The answer to `question`; `secret` ones are not echoed. */
  async ask(question: string, options: { secret?: boolean } = {}): Promise<string> {
    if (!this.fromStdin && process.stdin.isTTY) {
      return options.secret ? password({ message: question, mask: false }) : input({ message: question });
    }
    const line = await this.nextLine();
    if (line === undefined) throw new Error(`standard input ended before the answer to: ${question}`);
    return line;
  }

  close(): void {
    this.lines?.close();
  }

  private nextLine(): Promise<string | undefined> {
    if (!this.lines) {
      this.lines = createInterface({ input: process.stdin, terminal: false });
      this.lines.on('line', (line) => {
        const reader = this.waiting.shift();
        if (reader) reader(line);
        else this.buffered.push(line);
      });
      this.lines.on('close', () => {
        this.ended = true;
        for (const reader of this.waiting.splice(0)) reader(undefined);
      });
    }
    const line = this.buffered.shift();
    if (line !== undefined || this.ended) return Promise.resolve(line);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}
