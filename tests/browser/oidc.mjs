// A real OpenID provider for the browser tests (the npm package oidc-provider, in its development mode): the web
// client signs staff in against it with the authorization code flow and PKCE, and the service validates its JWT
// access tokens by its published keys. Accounts are the test's: their ids are typed at the provider's login page.
import Provider from "oidc-provider";

export const RESOURCE = "urn:outcomes:api";

/**
 * Starts the provider on PORT. `accounts` maps an account id to the claims its access tokens carry
 * (role, site_id, practitioner_id), as a clinic's provider would be configured to issue them.
 */
export async function startProvider(port, appUrl, accounts) {
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: "outcomes-web",
      token_endpoint_auth_method: "none",
      redirect_uris: [appUrl],
      post_logout_redirect_uris: [`${appUrl}?staff=signed-out`],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    }],
    pkce: { required: () => true },
    // The web client calls the token endpoint from the browser: its origin may.
    clientBasedCORS: (_ctx, origin) => origin === new URL(appUrl).origin,
    scopes: ["openid", "outcomes"],
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: "outcomes", audience: RESOURCE, accessTokenFormat: "jwt", accessTokenTTL: 3600 }),
      },
    },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    extraTokenClaims: (_ctx, token) => accounts[token.accountId] ?? {},
    // The consent step is the clinic's business, not the test's: a grant is made on sign-in.
    loadExistingGrant: async (ctx) => {
      const id = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (id) return ctx.oidc.provider.Grant.find(id);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope("openid outcomes");
      grant.addResourceScope(RESOURCE, "outcomes");
      await grant.save();
      return grant;
    },
  });
  const server = provider.listen(port);
  await new Promise((resolve) => server.once("listening", resolve));
  return { issuer, close: () => new Promise((resolve) => server.close(resolve)) };
}
