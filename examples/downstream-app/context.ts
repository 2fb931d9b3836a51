/** What every route of the demo app receives: its state type and its dependencies. */
import type { ParameterizedContext } from 'koa';
import type { Logger } from 'pino';
import type { PageRenderer } from './http/render.ts';
import type { Session, SessionCookieOptions, SessionStore } from './http/sessions.ts';
import type { GatehouseClient } from './oidc/gatehouse-client.ts';
import type { DownstreamStore } from './store/types.ts';

export interface AppState {
  requestId: string;
  session: Session;
}

export type AppContext = ParameterizedContext<AppState>;

export interface AppDeps {
  appName: string;
  /** Public base URL of this app, e.g. http://127.0.0.1:4000 (no trailing slash). */
  publicUrl: string;
  store: DownstreamStore;
  sessions: SessionStore;
  cookie: SessionCookieOptions;
  pages: PageRenderer;
  /** null when unified login is not configured (no issuer/client id): direct sign-in only. */
  gatehouse: GatehouseClient | null;
  /** The RP's max authentication age for the local-2FA decision (seconds), or undefined. */
  maxAuthAgeSeconds: number | undefined;
  /** Wrong second-factor or link-password attempts before a pending sign-in is dropped. */
  maxAttempts: number;
  logger: Logger;
  clock: () => Date;
}
