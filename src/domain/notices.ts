// Mail that use cases send directly (not in reaction to an audit event): the single-use links and the
// optional new-browser notice. The domain names what to say; src/mail words it and queues it, so a use
// case never waits for, or fails because of, the mail server.
export interface Recipient {
  email: string;
  name: string | null;
}

export interface LinkNotice {
  /** the single-use link, absolute. */
  link: string;
  expiresAt: Date;
}

export interface NoticeData {
  /** forgotten password; one link for every account of the address, listed by organization. */
  'password.reset_link': LinkNotice & { tenantNames: string[] };
  'email.verification_link': LinkNotice & { tenantName?: string | undefined };
  /** to the NEW address of an email change: the link confirms it (`from`: the account's current address). */
  'email.change_link': LinkNotice & { tenantName: string; from: string };
  /** an administrator invited a new account: the link sets its password. */
  'account.invitation': LinkNotice & { tenantName: string; inviterName?: string | undefined };
  /** self reset of MFA: the link confirms it. */
  'mfa.reset_link': LinkNotice & { tenantName?: string | undefined };
  /** optional per deployment (off by default). */
  'signin.new_browser': { tenantName?: string | undefined; browser?: string | undefined; ip?: string | undefined; clientName?: string | undefined };
  /** one mail to the administrator per bulk import that changed something, never one per user. */
  'import.summary': { tenantName: string; created: number; updated: number; unchanged: number; rejected: number };
}

export type NoticeKind = keyof NoticeData;

export interface Postbox {
  /** Queues the message for delivery; rejects only when it cannot be stored (database down). */
  send<K extends NoticeKind>(kind: K, to: Recipient, data: NoticeData[K]): Promise<void>;
}
