// The paired device's tokens, kept in IndexedDB on this device only. The access token lives 15 minutes; the
// refresh token rotates at every use (the service refuses a spent one), so the new pair is saved before use.
import { del, get, set } from "idb-keyval";

export interface DeviceSession {
  patientId: number;
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds after which the access token is no longer offered. */
  expiresAt: number;
  deviceName: string;
}

/** The device was unpaired (by the clinic, by the patient elsewhere, or for a reused token), or its pairing lapsed. */
export class Unpaired extends Error {
  override name = "Unpaired";
}

const KEY = "outcomes.session";
const PAIRING_GRANT = "urn:outcomes:oauth:grant-type:pairing-code";

export const loadSession = (): Promise<DeviceSession | undefined> => get<DeviceSession>(KEY);
export const saveSession = (session: DeviceSession): Promise<void> => set(KEY, session);
export const clearSession = (): Promise<void> => del(KEY);

interface TokenAnswer {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  patient_id?: number;
  error?: string;
  error_description?: string;
}

async function token(form: Record<string, string>): Promise<TokenAnswer & { status: number }> {
  const response = await fetch("/api/v1/oauth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  const body = (await response.json().catch(() => ({}))) as TokenAnswer;
  return { ...body, status: response.status };
}

function toSession(answer: TokenAnswer, deviceName: string): DeviceSession {
  return {
    patientId: answer.patient_id!,
    accessToken: answer.access_token!,
    refreshToken: answer.refresh_token!,
    expiresAt: Date.now() + (answer.expires_in! - 30) * 1000,
    deviceName,
  };
}

/** Exchanges a pairing code; throws an Error whose message can be shown to the patient. */
export async function pair(code: string, deviceName: string): Promise<DeviceSession> {
  const answer = await token({ grant_type: PAIRING_GRANT, code, device_name: deviceName });
  if (answer.status === 429) throw new Error("Too many tries from this connection. Wait a few minutes, then try again.");
  if (!answer.access_token) throw new Error(answer.error_description ?? "The code could not be checked. Try again.");
  const session = toSession(answer, deviceName);
  await saveSession(session);
  return session;
}

let refreshing: Promise<DeviceSession> | undefined;

/** A fresh access token; one refresh at a time, since each refresh token is good once. */
export function refresh(session: DeviceSession): Promise<DeviceSession> {
  refreshing ??= (async () => {
    try {
      const answer = await token({ grant_type: "refresh_token", refresh_token: session.refreshToken });
      if (answer.access_token) {
        const next = toSession(answer, session.deviceName);
        await saveSession(next);
        return next;
      }
      if (answer.error === "invalid_grant") throw new Unpaired(answer.error_description);
      throw new Error(answer.error_description ?? "Could not renew the sign-in.");
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

/** Signs this device out: the service revokes its tokens (RFC 7009), and they are forgotten here. */
export async function unpair(session: DeviceSession): Promise<void> {
  await fetch("/api/v1/oauth/revoke", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: session.refreshToken, token_type_hint: "refresh_token" }),
  }).catch(() => undefined);
  await clearSession();
}
