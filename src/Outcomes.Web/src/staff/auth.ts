// Staff sign in with the clinic's OpenID provider: authorization code with PKCE (oidc-client-ts). The provider and
// the client id come from the service (/app/config.json), so one build serves any clinic.
import { UserManager, WebStorageStateStore, type User } from "oidc-client-ts";

interface ClientConfig {
  oidc: { authority: string; clientId: string; scope: string; resource?: string | null } | null;
}

let manager: Promise<UserManager | null> | undefined;

export function userManager(): Promise<UserManager | null> {
  manager ??= (async () => {
    const config = (await (await fetch("/app/config.json")).json()) as ClientConfig;
    if (!config.oidc) return null;
    const app = `${location.origin}/app/`;
    return new UserManager({
      authority: config.oidc.authority,
      client_id: config.oidc.clientId,
      redirect_uri: app,
      post_logout_redirect_uri: `${app}?staff=signed-out`,
      response_type: "code",
      scope: config.oidc.scope,
      extraQueryParams: config.oidc.resource ? { resource: config.oidc.resource } : {},
      extraTokenParams: config.oidc.resource ? { resource: config.oidc.resource } : {},
      userStore: new WebStorageStateStore({ store: sessionStorage }),
      automaticSilentRenew: false,
    });
  })();
  return manager;
}

/** The claims the API reads, from the access token (for what the screens offer; the API decides). */
export interface Staff {
  token: string;
  role: string;
  siteId?: number;
  practitionerId?: number;
  name: string;
}

export function staffOf(user: User): Staff {
  const payload = JSON.parse(atob(user.access_token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
  const number = (v: unknown) => (v === undefined || v === null ? undefined : Number(v));
  return {
    token: user.access_token,
    role: String(payload.role ?? ""),
    siteId: number(payload.site_id),
    practitionerId: number(payload.practitioner_id),
    name: String(user.profile.name ?? user.profile.sub),
  };
}

export async function currentStaff(): Promise<Staff | null> {
  const users = await userManager();
  const user = await users?.getUser();
  return user && !user.expired ? staffOf(user) : null;
}
