import { SMTPServer } from 'smtp-server';
import { findFreePortRange, mailText, waitFor } from '@cloudstore/testing';

export interface ReceivedMail {
  readonly to: string[];
  readonly raw: string;
}

/** A real SMTP server for the tests: it accepts every message and keeps it. */
export class SmtpSink {
  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
    readonly messages: ReceivedMail[],
  ) {}

  static async start(): Promise<SmtpSink> {
    const port = await findFreePortRange(1);
    const messages: ReceivedMail[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const parts: Buffer[] = [];
        stream.on('data', (part: Buffer) => parts.push(part));
        stream.on('end', () => {
          messages.push({
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            raw: Buffer.concat(parts).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return new SmtpSink(server, port, messages);
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  mailsTo(address: string): ReceivedMail[] {
    return this.messages.filter((m) => m.to.includes(address.toLowerCase()));
  }

  /** The sign-in code of the `index`-th mail to `address` (the newest when omitted). */
  async codeFor(address: string, index?: number): Promise<string> {
    return waitFor(
      `a sign-in code mailed to ${address}`,
      () => {
        const mails = this.mailsTo(address);
        const mail = index === undefined ? mails.at(-1) : mails[index];
        return mail ? /sign-in code is (\d{6})/.exec(mail.raw)?.[1] : undefined;
      },
      10_000,
      50,
    );
  }

  /** The `token` of the password-reset link in the `index`-th reset mail to `address` (the newest when omitted). */
  async resetTokenFor(address: string, index?: number): Promise<string> {
    return waitFor(
      `a password-reset link mailed to ${address}`,
      () => {
        const links = this.textsTo(address).flatMap(
          (text) => /^(https?:\/\/\S+[?&]token=[A-Za-z0-9_-]+)$/m.exec(text)?.[1] ?? [],
        );
        const link = index === undefined ? links.at(-1) : links[index];
        return link ? (new URL(link).searchParams.get('token') ?? undefined) : undefined;
      },
      10_000,
      50,
    );
  }

  /** The decoded mails to `address` (headers unfolded, quoted-printable undone), oldest first. */
  textsTo(address: string): string[] {
    return this.mailsTo(address).map((mail) => mailText(mail.raw));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
