// Submissions wait here, in IndexedDB, until they have arrived. Each carries the submissionId it was given when the
// patient pressed Send; the service stores a submission once however often it is sent (a retry answers 200 with the
// stored record), so a dropped connection at any moment cannot lose one or make two.
import { get, update } from "idb-keyval";
import { api, type Schemas } from "./api";
import { Unpaired } from "./session";

export type Submission =
  | { kind: "painScore"; body: Schemas["PainScoreRequest"] }
  | { kind: "questionnaire"; body: Schemas["QuestionnaireResponseRequest"] }
  | { kind: "sideEffect"; body: Schemas["SideEffectRequest"] };

export interface Queued {
  id: string;
  patientId: number;
  label: string;
  submission: Submission;
  createdAt: string;
  state: "pending" | "arrived" | "refused";
  settledAt?: string;
  detail?: string;
}

const KEY = "outcomes.queue";

export const queued = async (): Promise<Queued[]> => (await get<Queued[]>(KEY)) ?? [];

export async function enqueue(patientId: number, label: string, submission: Submission): Promise<Queued> {
  const item: Queued = {
    id: submission.body.submissionId!,
    patientId,
    label,
    submission,
    createdAt: new Date().toISOString(),
    state: "pending",
  };
  await update<Queued[]>(KEY, (items) => [...(items ?? []), item]);
  return item;
}

async function settle(id: string, state: Queued["state"], detail?: string): Promise<void> {
  await update<Queued[]>(KEY, (items) =>
    (items ?? []).map((i) => (i.id === id ? { ...i, state, detail, settledAt: new Date().toISOString() } : i)),
  );
}

async function send(item: Queued): Promise<{ ok: boolean; status: number; detail?: string }> {
  const path = { params: { path: { patientId: item.patientId } } };
  const s = item.submission;
  const result =
    s.kind === "painScore"
      ? await api.POST("/api/v1/patients/{patientId}/pain-scores", { ...path, body: s.body })
      : s.kind === "questionnaire"
        ? await api.POST("/api/v1/patients/{patientId}/questionnaire-responses", { ...path, body: s.body })
        : await api.POST("/api/v1/patients/{patientId}/side-effects", { ...path, body: s.body });
  const problem = result.error as { detail?: string; errors?: Record<string, string[]> } | undefined;
  const detail = problem?.errors ? Object.entries(problem.errors).map(([f, m]) => `${f}: ${m.join(", ")}`).join("; ") : problem?.detail;
  return { ok: result.response.ok, status: result.response.status, detail };
}

let flushing: Promise<number> | undefined;

/**
 * Sends what is pending, oldest first, one at a time. Stops at the first network failure (offline: try again later);
 * a refusal by the service (400, 404, 409) settles the item as refused, with the service's words. Returns how many arrived.
 */
export function flush(onChange: () => void): Promise<number> {
  flushing ??= (async () => {
    let arrived = 0;
    try {
      for (const item of (await queued()).filter((i) => i.state === "pending")) {
        let answer;
        try {
          answer = await send(item);
        } catch (error) {
          if (error instanceof Unpaired) throw error;
          break; // no connection: the item stays pending
        }
        if (answer.ok) {
          await settle(item.id, "arrived");
          arrived++;
        } else if (answer.status >= 400 && answer.status < 500 && answer.status !== 401 && answer.status !== 429) {
          await settle(item.id, "refused", answer.detail ?? `The clinic's service refused it (${answer.status}).`);
        } else {
          break; // the service is busy or unavailable: try again later
        }
        onChange();
      }
    } finally {
      flushing = undefined;
    }
    return arrived;
  })();
  return flushing;
}
