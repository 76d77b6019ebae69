// A real SMTP server (nodemailer's smtp-server) on a free port: STARTTLS (or implicit TLS) with
// its built-in self-signed certificate, AUTH PLAIN/LOGIN, and a scripted answer per message (250, 451, 550…).
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  raw: string;
  from: string;
  to: string[];
  user: string | undefined;
  secure: boolean;
  /** The answer given: 250 when accepted. */
  code: number;
}

export interface TestSmtp {
  /** MEDIANODE_SMTP_URL for this server (STARTTLS required, self-signed certificate accepted). */
  url: string;
  port: number;
  /** Every DATA the server read, accepted or not. */
  mails: ReceivedMail[];
  accepted(): ReceivedMail[];
  stop(): Promise<void>;
}

/**
 * `answer(n)` decides the reply to the n-th message (1-based): a number (250, 451, 550), or
 * "hang" to read the message and never reply (a node killed mid-send).
 */
export async function startTestSmtp(
  answer: (n: number) => number | "hang" = () => 250,
  auth = { user: "mailer", pass: "s3cret-pass" },
  /** implicit: TLS from the first byte (smtps://, port 465 style) instead of STARTTLS. */
  tls: "starttls" | "implicit" = "starttls",
): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: tls === "implicit",
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    closeTimeout: 200,
    onAuth(a, _session, cb) {
      if (a.username === auth.user && a.password === auth.pass) return cb(null, { user: a.username });
      cb(Object.assign(new Error("bad credentials"), { responseCode: 535 }));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const n = mails.length + 1;
        const a = answer(n);
        mails.push({
          raw: Buffer.concat(chunks).toString("utf8"),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          secure: session.secure,
          code: a === "hang" ? 0 : a,
        });
        if (a === "hang") return;
        if (a >= 400) return cb(Object.assign(new Error(a >= 500 ? "mailbox unavailable" : "try again later"), { responseCode: a }));
        cb(null, "queued");
      });
    },
  });
  server.on("error", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: tls === "implicit" ? `smtps://${auth.user}:${auth.pass}@127.0.0.1:${port}/?tls.rejectUnauthorized=false` : `smtp://${auth.user}:${auth.pass}@127.0.0.1:${port}/?requireTLS=true&tls.rejectUnauthorized=false`,
    port,
    mails,
    accepted: () => mails.filter((m) => m.code === 250),
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The value of one header of a raw message (unfolded). */
export function header(raw: string, name: string): string | null {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, " ");
  const m = new RegExp(`^${name}:\\s*(.*)$`, "im").exec(head);
  return m ? m[1]!.trim() : null;
}
