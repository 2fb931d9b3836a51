/**
 * Server-side sessions kept in process memory, keyed by a random id in an HttpOnly SameSite=Lax
 * cookie. A session carries the CSRF token, the pending authorization request (state, nonce, PKCE
 * verifier), a sign-in waiting for the local second factor or for account linking, and finally
 * the signed-in user with the Gatehouse `sub`/`sid` that back-channel logout looks for.
 */
import { randomBytes } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import type { LocalMfaReason, SignInPath, ValidatedIdTokenClaims } from '../../../src/relying-party/index.ts';
import type { LocalFactor } from '../auth/second-factor.ts';

export interface GatehouseSignIn {
  sub: string;
  sid: string | null;
  idToken: string;
  authTime: number | null;
  tenant: { id: string; name: string } | null;
}

/** How a sign-in happened and what the local-2FA decision said (shown on the dashboard). */
export interface SignInEvidence {
  path: SignInPath;
  amr: string[];
  acr: string | null;
  reason: LocalMfaReason;
  gatehouse: GatehouseSignIn | null;
}

export interface SignedInUser {
  userId: string;
  evidence: SignInEvidence;
  localFactor: LocalFactor | null;
  signedInAt: string;
}

/** First factor passed (password or Gatehouse); Acme MDR's own second factor still to come. */
export interface PendingSignIn {
  userId: string;
  evidence: SignInEvidence;
  failures: number;
  /** Secret of a forced enrolment in progress (user had no local TOTP). */
  enrolSecret: string | null;
}

/** Gatehouse sign-in of an identity whose verified email matches an unlinked local user. */
export interface PendingLink {
  localUserId: string;
  claims: ValidatedIdTokenClaims;
  idToken: string;
  failures: number;
}

export interface AuthorizationFlow {
  state: string;
  nonce: string;
  codeVerifier: string;
  stepUp: boolean;
  maxAgeSeconds: number | null;
}

export interface Session {
  id: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  flow: AuthorizationFlow | null;
  pending: PendingSignIn | null;
  pendingLink: PendingLink | null;
  /** Settings > Account enrolment in progress. */
  enrolment: { secret: string } | null;
  user: SignedInUser | null;
  notice: string | null;
}

export interface SessionStoreOptions {
  clock?: () => Date;
  /** Idle limit for sessions without a signed-in user (default 30 min). */
  anonymousIdleMs?: number;
  /** Idle limit for signed-in sessions (default 8 h). */
  signedInIdleMs?: number;
  /** Absolute limit for any session (default 12 h). */
  absoluteMs?: number;
  /** Beyond this many sessions the oldest anonymous ones are dropped (default 50 000). */
  maxSessions?: number;
}

export interface SessionStore {
  create(): Session;
  get(id: string): Session | undefined;
  destroy(id: string): void;
  /** Ends every session matching `predicate`; returns how many. */
  destroyWhere(predicate: (session: Session) => boolean): number;
  size(): number;
}

const newId = (): string => randomBytes(32).toString('base64url');

export function createSessionStore(options: SessionStoreOptions = {}): SessionStore {
  const clock = options.clock ?? (() => new Date());
  const anonymousIdleMs = options.anonymousIdleMs ?? 30 * 60_000;
  const signedInIdleMs = options.signedInIdleMs ?? 8 * 3_600_000;
  const absoluteMs = options.absoluteMs ?? 12 * 3_600_000;
  const maxSessions = options.maxSessions ?? 50_000;
  const sessions = new Map<string, Session>();
  let creations = 0;

  const expired = (session: Session, now: number): boolean =>
    now - session.createdAt > absoluteMs || now - session.lastSeenAt > (session.user ? signedInIdleMs : anonymousIdleMs);

  const sweep = (now: number): void => {
    for (const [id, session] of sessions) if (expired(session, now)) sessions.delete(id);
    for (const [id, session] of sessions) {
      if (sessions.size < maxSessions) break;
      if (!session.user) sessions.delete(id);
    }
  };

  return {
    create() {
      const now = clock().getTime();
      creations += 1;
      if (creations % 256 === 0 || sessions.size >= maxSessions) sweep(now);
      const session: Session = {
        id: newId(), csrfToken: newId(), createdAt: now, lastSeenAt: now,
        flow: null, pending: null, pendingLink: null, enrolment: null, user: null, notice: null,
      };
      sessions.set(session.id, session);
      return session;
    },
    get(id) {
      const session = sessions.get(id);
      if (!session) return undefined;
      const now = clock().getTime();
      if (expired(session, now)) {
        sessions.delete(id);
        return undefined;
      }
      session.lastSeenAt = now;
      return session;
    },
    destroy(id) {
      sessions.delete(id);
    },
    destroyWhere(predicate) {
      let count = 0;
      for (const [id, session] of sessions) {
        if (predicate(session)) {
          sessions.delete(id);
          count += 1;
        }
      }
      return count;
    },
    size: () => sessions.size,
  };
}

export interface SessionState {
  session: Session;
}

export interface SessionCookieOptions {
  /** Secure cookie with the `__Host-` prefix (PUBLIC_URL is https). */
  secure: boolean;
}

export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-acme_session' : 'acme_session';
}

function setSessionCookie(ctx: Context, id: string, secure: boolean): void {
  const attributes = [`${sessionCookieName(secure)}=${id}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (secure) attributes.push('Secure');
  ctx.append('Set-Cookie', attributes.join('; '));
}

/** Loads the session named by the cookie, or starts an anonymous one. */
export function sessionMiddleware(store: SessionStore, options: SessionCookieOptions): Middleware<SessionState> {
  return async (ctx, next) => {
    const id = ctx.cookies.get(sessionCookieName(options.secure));
    let session = id ? store.get(id) : undefined;
    if (!session) {
      session = store.create();
      setSessionCookie(ctx, session.id, options.secure);
    }
    ctx.state.session = session;
    await next();
  };
}

/**
 * Replaces the browser's session with a fresh one (new id, new CSRF token) carrying `fill`'s
 * changes — at every sign-in, so a session id planted before sign-in is worthless after it.
 */
export function renewSession(
  ctx: Context & { state: SessionState },
  store: SessionStore,
  options: SessionCookieOptions,
  fill: (fresh: Session) => void,
): Session {
  store.destroy(ctx.state.session.id);
  const fresh = store.create();
  fill(fresh);
  ctx.state.session = fresh;
  setSessionCookie(ctx, fresh.id, options.secure);
  return fresh;
}
