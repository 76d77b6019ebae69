// Email over SMTP (nodemailer): MEDIANODE_SMTP_URL smtp:// (STARTTLS when the server offers
// it; ?requireTLS=true refuses plain) or smtps:// (implicit TLS), with the URL's user:pass as
// AUTH. One connection per message: notification mail is rare and a pool would hold sockets
// open to the mail server all day.
import nodemailer from "nodemailer";
import type { MailMessage } from "./email-message";
import { smtpOutcome, type SendOutcome } from "./outcome";

export interface Mailer {
  send(to: string, m: MailMessage): Promise<SendOutcome>;
  /** The domain of the From address (for Message-IDs). */
  domain: string;
  close(): void;
}

/** The bare address of a From value like `medianode <media@example.com>`. Pure. */
export function fromAddress(from: string): string {
  const m = /<([^>]+)>\s*$/.exec(from);
  return (m ? m[1]! : from).trim();
}

export function createMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    // Fail an attempt within seconds rather than hold a delivery slot: the queue retries.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  const domain = fromAddress(from).split("@")[1] ?? "medianode.invalid";
  return {
    domain,
    async send(to, m) {
      try {
        const info = await transport.sendMail({
          from,
          to,
          subject: m.subject,
          text: m.text,
          html: m.html,
          messageId: m.messageId,
          inReplyTo: m.inReplyTo,
          references: m.references,
          headers: { "Auto-Submitted": "auto-generated" },
        });
        const code = /^(\d{3})/.exec(info.response ?? "")?.[1];
        return { ok: true, status: code ? Number(code) : 250, detail: info.response };
      } catch (e) {
        return smtpOutcome(e as { responseCode?: number; code?: string; message?: string });
      }
    },
    close: () => transport.close(),
  };
}
