// Every security outcome is a past-tense event (DESIGN.md §12.7). The audit log records all of them;
// the events that change or use a user's MFA also notify the account owner by email.
export const NOTIFYING_EVENTS = [
  'mfa.enrolled',
  'mfa.imported',
  'mfa.recovery_code.used',
  'mfa.recovery_codes.regenerated',
  'mfa.disabled',
  'mfa.reset_by_self',
  'mfa.reset_by_admin',
  'mfa.locked',
  'mfa.authenticator.added',
  'mfa.authenticator.removed',
  'password.changed',
  'email.change_requested',
  'email.changed',
] as const;

export const SILENT_EVENTS = [
  'auth.password.succeeded',
  'auth.password.failed',
  'auth.rate_limited',
  'auth.signed_in',
  'auth.signed_out',
  'consent.granted',
  'mfa.totp.verified',
  'mfa.totp.check_failed',
  'mfa.recovery_code.check_failed',
  'mfa.enrolment.started',
  'mfa.webauthn.verified',
  'mfa.webauthn.check_failed',
  'mfa.webauthn.sign_count_regressed',
  'auth.passkey.succeeded',
  'client.created',
  'client.updated',
  'client.deleted',
  'keys.rotated',
  'tenant.created',
  'account.created',
  'operator.setup_link_issued',
  'operator.setup_completed',
  'password.reset_requested',
  'password.reset_link.refused',
  'email.verification_sent',
  'email.verified',
  'email.verification_link.refused',
  'email.change_link.refused',
  'authz.denied',
  'mfa.policy.updated',
  'account.role.changed',
  'account.deactivated',
  'account.reactivated',
  'account.sessions.ended',
  'client.disabled',
  'client.enabled',
  'client.secret.rotated',
  'audit.exported',
  'account.invited',
  'account.invitation.resent',
  'account.invitation.accepted',
  'account.invitation_link.refused',
  'mfa.setup.deferred',
  'mfa.authenticator.renamed',
  'mfa.reset_requested',
  'mfa.reset_link.refused',
  'account.session.ended',
  'browser.remembered',
  'browser.forgotten',
  'account.imported',
  'idp.created',
  'idp.updated',
  'idp.deleted',
  'auth.upstream.succeeded',
  'auth.upstream.failed',
  'account.linked',
  'account.provisioned',
  'account.updated',
  'account.deleted',
] as const;

export type NotifyingEvent = (typeof NOTIFYING_EVENTS)[number];
export type SecurityEventName = NotifyingEvent | (typeof SILENT_EVENTS)[number];

export interface RequestInfo {
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

export interface SecurityEvent extends RequestInfo {
  action: SecurityEventName;
  actorAccountId?: string | undefined;
  /** who acted when it was not an account: `cli` (the local operator) or `client:<client_id>` (a service). */
  actor?: string | undefined;
  tenantId?: string | undefined;
  target?: string | undefined;
  detail?: Record<string, unknown>;
}

export interface NotificationTarget {
  email: string;
  name: string | null;
}

export interface Notifier {
  notify(event: NotifyingEvent, to: NotificationTarget, detail: Record<string, unknown>): Promise<void>;
}

export interface AuditSink {
  record(event: SecurityEvent): Promise<unknown>;
}

const notifying = new Set<string>(NOTIFYING_EVENTS);
export const isNotifying = (name: SecurityEventName): name is NotifyingEvent => notifying.has(name);

/** What the use cases need: emit an event. */
export interface SecurityEvents {
  emit(event: SecurityEvent, owner?: NotificationTarget): Promise<void>;
}

export function createSecurityEvents(audit: AuditSink, notifier: Notifier): SecurityEvents & { observe(observer: (event: SecurityEvent) => void): void } {
  const observers: ((event: SecurityEvent) => void)[] = [];
  return {
    /** Records the event; when it concerns a user's MFA and `owner` is given, mails them too. */
    async emit(event: SecurityEvent, owner?: NotificationTarget): Promise<void> {
      await audit.record(event);
      for (const observe of observers) observe(event);
      if (owner && isNotifying(event.action)) await notifier.notify(event.action, owner, { ...event.detail, at: new Date().toISOString() });
    },
    /** Calls `observer` with every event once it is recorded (metrics count them). */
    observe(observer: (event: SecurityEvent) => void): void {
      observers.push(observer);
    },
  };
}

