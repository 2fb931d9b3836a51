// Signing in to the admin console as a person does: open a console page, land on Gatehouse's own
// sign-in page (the same interaction every relying party uses), type the password and the current
// code of the authenticator app, and come back to the console page.
import type { TestGatehouse } from '../../helpers/gatehouse.ts';
import { PASSWORD, seedAccount } from '../../helpers/seed.ts';
import { UserAgent, type Page } from '../../helpers/user-agent.ts';
import { importAuthenticator, isPasswordPage, isVerifyPage, type Authenticator } from '../../helpers/mfa.ts';

export interface ConsoleAdmin {
  id: string;
  email: string;
  app: Authenticator;
}

/** An account with an imported authenticator (the `user mfa import-totp` use case). */
export async function adminWithMfa(gh: TestGatehouse, tenantId: string, role = 'admin'): Promise<ConsoleAdmin> {
  const account = await seedAccount(gh.runtime, tenantId, { role });
  const app = await importAuthenticator(gh.runtime, account);
  return { id: account.id, email: account.email, app };
}

/** From a console page through password + TOTP back to that page. */
export async function signInToConsole(gh: TestGatehouse, who: ConsoleAdmin, path = '/admin/users', agent = new UserAgent()): Promise<{ agent: UserAgent; page: Page }> {
  const login = await agent.get(`${gh.issuer}${path}`);
  if (!isPasswordPage(login)) throw new Error(`expected the sign-in page, got ${login.status} ${login.url}:\n${login.html.slice(0, 1500)}`);
  const verify = await agent.submit(login, '/login', { email: who.email, password: PASSWORD });
  if (!isVerifyPage(verify)) throw new Error(`expected the code page, got ${verify.status} ${verify.url}:\n${verify.html.slice(0, 1500)}`);
  const page = await agent.submit(verify, '/verify', { code: await who.app.nextCode() });
  return { agent, page };
}

/** The console session's record in the shared store, read the way the console reads it. */
export function consoleCookie(agentCookies: string): string | undefined {
  return /gh_admin_session=([A-Za-z0-9_-]{43})/.exec(agentCookies)?.[1];
}
