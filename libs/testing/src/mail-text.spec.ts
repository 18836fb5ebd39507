import { mailText } from './mail-text';

describe(mailText.name, () => {
  it('unfolds headers and decodes a quoted-printable body, soft line breaks and UTF-8 included', () => {
    const raw = [
      'Subject: Reset your',
      ' cloudstore password',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'https://example.com/reset?token=3DAbc-_9 and a very long line that wr=',
      'aps =E2=80=94 cloudstore',
    ].join('\r\n');
    const sut = mailText(raw);
    expect(sut).toContain('Subject: Reset your cloudstore password');
    expect(sut).toContain('https://example.com/reset?token=Abc-_9 and a very long line that wraps — cloudstore');
  });

  it('regression (randomized run, seed 590948175): a soft break before a space is joined, not unfolded like a header', () => {
    const raw = [
      'To: someone@example.com',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Someone entered your password and then too many wrong=',
      ' sign-in codes.',
    ].join('\r\n');
    expect(mailText(raw)).toContain('then too many wrong sign-in codes.');
  });

  it('leaves a message without quoted-printable as it is, but unfolded', () => {
    expect(mailText('Subject: a\r\n b\r\n\r\ncode=3D1')).toBe('Subject: a b\r\n\r\ncode=3D1');
  });
});
