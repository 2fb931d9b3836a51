// Step `consent`: a third-party application asks for scopes or claims the user has not granted it yet
// (first-party applications never see this page).
import { badRequest } from '../../domain/errors.ts';
import { render, type Turn } from '../turn.ts';
import type { Page } from './page.ts';

interface ConsentDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

const detailsOf = (turn: Turn) => turn.interaction.prompt.details as ConsentDetails;

export const consentPage = {
  step: 'consent',
  show(turn) {
    const d = detailsOf(turn);
    return render(turn, 'interactions/consent', { title: 'Allow access', scopes: d.missingOIDCScope ?? [], claims: d.missingOIDCClaims ?? [], resources: d.missingResourceScopes ?? {} });
  },
  actions: {
    async consent(turn) {
      const { ctx, deps, interaction } = turn;
      const provider = deps.provider();
      const accountId = interaction.session?.accountId;
      if (!accountId) throw badRequest('Sign in first.');
      const d = detailsOf(turn);
      const clientId = String(interaction.params.client_id);
      const grant = (interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined) ?? new provider.Grant({ accountId, clientId });
      if (d.missingOIDCScope?.length) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims?.length) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      await deps.events.emit({ action: 'consent.granted', actorAccountId: accountId, target: clientId, ...turn.request, detail: { scopes: d.missingOIDCScope ?? [] } });
      const redirectTo = await provider.interactionResult(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      ctx.status = 303;
      ctx.redirect(redirectTo);
    },
  },
} satisfies Page;
