// Using the account console as a person does: open an /account page, sign in on Gatehouse's own
// sign-in pages (password, then the current code when the account has MFA), and come back.
import type { TestGatehouse } from '../../helpers/gatehouse.ts';
import { PASSWORD } from '../../helpers/seed.ts';
import { UserAgent, findForm, type Page } from '../../helpers/user-agent.ts';
import { isPasswordPage, isVerifyPage, type Authenticator } from '../../helpers/mfa.ts';

export async function signInToAccount(gh: TestGatehouse, email: string, app?: Authenticator, path = '/account/security', agent = new UserAgent()): Promise<{ agent: UserAgent; page: Page }> {
  const login = await agent.get(`${gh.issuer}${path}`);
  if (!isPasswordPage(login)) throw new Error(`expected the sign-in page, got ${login.status} ${login.url}:\n${login.html.slice(0, 1500)}`);
  let page = await agent.submit(login, '/login', { email, password: PASSWORD });
  if (app) {
    if (!isVerifyPage(page)) throw new Error(`expected the code page, got ${page.status} ${page.url}:\n${page.html.slice(0, 1500)}`);
    page = await agent.submit(page, '/verify', { code: await app.nextCode() });
  }
  return { agent, page };
}

/** Posts a form of the page without its CSRF token (a forged cross-site form). */
export async function postWithoutCsrf(agent: UserAgent, page: Page, actionPart: string, fields: Record<string, string> = {}): Promise<Response> {
  const form = findForm(page.html, actionPart);
  const { _csrf: _dropped, ...hidden } = form.hidden;
  return agent.request(new URL(form.action, page.url).href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...hidden, ...fields }) });
}
