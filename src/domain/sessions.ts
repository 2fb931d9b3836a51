// "Sign out everywhere" for one account, whoever asks: an administrator (console, API, CLI), an
// account's deactivation, a password reset or an MFA reset. Every caller ends the sessions the same
// way and leaves the same audit record: how many sessions ended, which apps were told by back-channel
// logout and which could not be reached, why, and who asked.
//
// The SSO sessions live in oidc-provider's storage and the logout tokens are signed with the
// provider's keys, so the work sits behind a port (SessionStore): the server binds the provider it
// serves with, a CLI run binds one it builds (src/oidc/sessions.ts implements both).
import type { RequestInfo, SecurityEvent, SecurityEvents } from './events.ts';

export interface EndedSessions {
  sessions: number;
  /** clients told by back-channel logout. */
  notified: string[];
  /** clients whose back-channel logout URI could not be reached. */
  failed: string[];
}

/** The port: ends every SSO session of an account, revoking its grants and telling the apps. */
export interface SessionStore {
  endAll(accountId: string): Promise<EndedSessions>;
}

export type SessionEndReason = 'administrator' | 'deactivated' | 'deleted' | 'password_reset' | 'mfa_reset';

export interface SessionEndCause extends RequestInfo, Pick<SecurityEvent, 'actorAccountId' | 'actor' | 'tenantId'> {
  reason: SessionEndReason;
}

export function createSessionEnding(deps: { events: Pick<SecurityEvents, 'emit'> }) {
  let store: SessionStore | undefined;
  return {
    /** Set once by the composition root that has a provider (src/app.ts, src/cli/main.ts). */
    bind(sessionStore: SessionStore): void {
      store = sessionStore;
    },
    /** Ends the account's sessions and audits it (also when there was none: the request is on record). */
    async end(accountId: string, cause: SessionEndCause): Promise<EndedSessions> {
      if (!store) throw new Error('no session store is bound: the server or the CLI binds one at start');
      const ended = await store.endAll(accountId);
      const { reason, ...who } = cause;
      await deps.events.emit({
        action: 'account.sessions.ended',
        ...who,
        target: accountId,
        detail: { sessions: ended.sessions, reason, notified: ended.notified, failed: ended.failed },
      });
      return ended;
    },
  };
}

export type SessionEnding = ReturnType<typeof createSessionEnding>;
