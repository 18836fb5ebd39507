/**
 * An RFC 5322 message as a test reads it: folded headers unfolded, and a quoted-printable body
 * decoded (nodemailer writes one for any non-ASCII text, turning `=` into `=3D`).
 */
export function mailText(raw: string): string {
  // Only headers fold: in a quoted-printable body a line may start with a space after a soft break.
  const blank = /\r?\n\r?\n/.exec(raw);
  const end = blank ? blank.index : raw.length;
  const headers = raw.slice(0, end).replace(/\r?\n[ \t]+/g, ' ');
  const body = raw.slice(end);
  if (!/^Content-Transfer-Encoding: quoted-printable/im.test(headers)) return headers + body;
  const softBreaksJoined = body.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < softBreaksJoined.length; i += 1) {
    const hex = softBreaksJoined[i] === '=' ? /^[0-9A-F]{2}/.exec(softBreaksJoined.slice(i + 1, i + 3))?.[0] : undefined;
    if (hex) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(softBreaksJoined[i] ?? '', 'utf8'));
    }
  }
  return headers + Buffer.from(bytes).toString('utf8');
}
