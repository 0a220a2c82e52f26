// The API client, typed by the committed OpenAPI document (src/outcomes.d.ts is generated from it at build time).
import createClient from "openapi-fetch";
import type { paths } from "./outcomes";
import { loadSession, refresh, Unpaired, type DeviceSession } from "./session";

function withToken(request: Request, session: DeviceSession): Request {
  const headers = new Headers(request.headers);
  headers.set("Authorization", `Bearer ${session.accessToken}`);
  return new Request(request, { headers });
}

/**
 * Sends with the device's access token, renewing it first when it has expired, and once more on a 401 that is not
 * a revocation. A revoked device (WWW-Authenticate: error_description="device_revoked") throws Unpaired.
 */
async function deviceFetch(request: Request): Promise<Response> {
  let session = await loadSession();
  if (!session) throw new Unpaired("This device is not paired.");
  if (Date.now() >= session.expiresAt) session = await refresh(session);
  const retry = request.clone();
  const response = await fetch(withToken(request, session));
  if (response.status !== 401) return response;
  if ((response.headers.get("WWW-Authenticate") ?? "").includes("device_revoked")) throw new Unpaired("This device was unpaired.");
  session = await refresh(session);
  const second = await fetch(withToken(retry, session));
  if (second.status === 401) throw new Unpaired("This device is no longer paired.");
  return second;
}

export const api = createClient<paths>({ baseUrl: location.origin, fetch: deviceFetch });

export type Schemas = import("./outcomes").components["schemas"];
