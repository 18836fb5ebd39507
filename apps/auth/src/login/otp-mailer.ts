import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { AuthConfig } from '@cloudstore/config';
import { ServiceUnavailableError } from '@cloudstore/contracts';
import { LOGGER, type Logger } from '@cloudstore/observability';
import nodemailer, { type Transporter } from 'nodemailer';
import { AUTH_CONFIG } from '../auth.tokens';

/**
 * Mails sign-in codes, password-reset links and security notices: by SMTP to SMTP_URL, or, with
 * no SMTP server configured, as RFC 5322 .eml files in OTP_OUTBOX_DIR (readable by the owner
 * only), for development.
 */
@Injectable()
export class OtpMailer implements OnApplicationShutdown {
  private readonly transport: Transporter;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.transport = config.SMTP_URL
      ? nodemailer.createTransport({
          url: config.SMTP_URL,
          pool: true,
          connectionTimeout: 5000,
          greetingTimeout: 5000,
          socketTimeout: 10_000,
        })
      : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  }

  async send(to: string, username: string, code: string, expiresAt: number): Promise<void> {
    const minutes = Math.round((expiresAt - Date.now() / 1000) / 60);
    await this.deliver(to, 'sign-in code', `Your cloudstore sign-in code: ${code}`, [
      `Hello ${username},`,
      '',
      `Your cloudstore sign-in code is ${code}`,
      '',
      `It works once and expires in ${minutes} minutes (${new Date(expiresAt * 1000).toISOString()}).`,
      'If you did not try to sign in, someone knows your password: change it.',
    ]);
  }

  async sendPasswordReset(to: string, username: string, link: string, expiresAt: number): Promise<void> {
    const minutes = Math.round((expiresAt - Date.now() / 1000) / 60);
    await this.deliver(to, 'password reset', 'Reset your cloudstore password', [
      `Hello ${username},`,
      '',
      'Someone asked to reset the password of your cloudstore account. To choose a new one, open:',
      '',
      link,
      '',
      `The link works once and expires in ${minutes} minutes. Every device signed in will be signed out.`,
      'If you did not ask for this, ignore this mail: your password stays as it is.',
    ]);
  }

  /** A notice to the owner; a failure to send it is logged, never the answer to the request. */
  async sendSecurityNotice(to: string, username: string, notice: { subject: string; lines: string[] }): Promise<void> {
    try {
      await this.deliver(to, 'security notice', notice.subject, [`Hello ${username},`, '', ...notice.lines]);
    } catch (error) {
      this.logger.warn({ err: error, to }, 'could not send a security notice');
    }
  }

  private async deliver(to: string, what: string, subject: string, lines: string[]): Promise<void> {
    const message = {
      from: { name: 'cloudstore', address: this.config.MAIL_FROM },
      to,
      subject,
      text: [...lines, '', '— cloudstore'].join('\n'),
    };
    let info: { message?: Buffer; messageId?: string };
    try {
      info = await this.transport.sendMail(message);
    } catch (error) {
      this.logger.error({ err: error, to }, `could not send the ${what}`);
      throw new ServiceUnavailableError(`The ${what} could not be sent, try again later`);
    }
    if (this.config.SMTP_URL) {
      this.logger.info({ to, messageId: info.messageId }, `${what} mailed`);
      return;
    }
    await mkdir(this.config.OTP_OUTBOX_DIR, { recursive: true, mode: 0o700 });
    const file = join(this.config.OTP_OUTBOX_DIR, `${Date.now()}-${randomBytes(4).toString('hex')}.eml`);
    await writeFile(file, info.message ?? Buffer.alloc(0), { mode: 0o600 });
    this.logger.info({ to, file }, `no SMTP_URL: ${what} written to the outbox`);
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}
