// The practitioner's measurements and the record of what was stored: range of motion and pressure thresholds, the
// patient's recent records with each one's history, withdrawal of a record entered in error, and the paired devices.
import type { Schemas } from "../api";
import { h, uid, words } from "../dom";
import type { staffApi } from "./api";

type Api = ReturnType<typeof staffApi>;

export function problemList(error: unknown): HTMLElement {
  const problem = error as { detail?: string; errors?: Record<string, string[]> } | undefined;
  return h("div", {}, h("p", {}, problem?.detail ?? "Not stored:"),
    h("ul", {}, ...Object.entries(problem?.errors ?? {}).map(([field, messages]) => h("li", {}, `${field}: ${messages.join("; ")}`))));
}

export function measurementForms(api: Api, patientId: number, movements: Schemas["Movement"][], muscles: Schemas["Muscle"][], done: () => void): HTMLElement {
  const romErrors = h("div", { role: "alert", class: "error" });
  const rom = h("form", { class: "card", "aria-labelledby": "rom-h" },
    h("h2", { id: "rom-h" }, "Record range of motion"),
    h("label", { for: "rom-move" }, "Movement"), h("select", { id: "rom-move", name: "movement" }, ...movements.map((m) => h("option", { value: m.code }, m.name))),
    h("label", { for: "rom-deg" }, "Degrees"), h("input", { id: "rom-deg", name: "degrees", type: "number", min: 0, step: "0.1", required: true }),
    h("label", { for: "rom-method" }, "Method"), h("select", { id: "rom-method", name: "method" },
      ...["goniometer", "inclinometer", "cromDevice", "visualEstimate"].map((m) => h("option", { value: m }, m === "cromDevice" ? "CROM device" : words(m)))),
    h("button", { type: "submit" }, "Record range of motion"), romErrors);
  rom.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(rom);
    const result = await api.POST("/api/v1/patients/{patientId}/range-of-motion", {
      params: { path: { patientId } },
      body: {
        submissionId: crypto.randomUUID(), answeredAt: new Date().toISOString(), movement: String(data.get("movement")),
        degrees: Number(data.get("degrees")), method: String(data.get("method")) as Schemas["RomMethod"],
      },
    });
    if (result.response.ok) done();
    else romErrors.replaceChildren(problemList(result.error));
  });

  const pptErrors = h("div", { role: "alert", class: "error" });
  const ppt = h("form", { class: "card", "aria-labelledby": "ppt-h" },
    h("h2", { id: "ppt-h" }, "Record a pressure pain threshold"),
    h("label", { for: "ppt-muscle" }, "Muscle"), h("select", { id: "ppt-muscle", name: "muscle" }, ...muscles.map((m) => h("option", { value: m.code }, m.name))),
    h("label", { for: "ppt-side" }, "Side"), h("select", { id: "ppt-side", name: "side" }, h("option", { value: "left" }, "Left"), h("option", { value: "right" }, "Right")),
    h("label", { for: "ppt-kg" }, "Threshold (kg/cm²)"), h("input", { id: "ppt-kg", name: "kg", type: "number", min: "0.01", step: "0.01", required: true }),
    h("button", { type: "submit" }, "Record the threshold"), pptErrors);
  ppt.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(ppt);
    const result = await api.POST("/api/v1/patients/{patientId}/pressure-pain-thresholds", {
      params: { path: { patientId } },
      body: {
        submissionId: crypto.randomUUID(), answeredAt: new Date().toISOString(), muscle: String(data.get("muscle")),
        side: String(data.get("side")) as Schemas["BodySide"], kgPerCm2: Number(data.get("kg")),
      },
    });
    if (result.response.ok) done();
    else pptErrors.replaceChildren(problemList(result.error));
  });
  return h("div", {}, rom, ppt);
}

function describe(o: Schemas["ObservationResponse"]): string {
  const what = o.kind === "painScore" ? "Pain score" : o.kind === "questionnaire" ? o.code.toUpperCase() : words(o.code);
  const value = o.value === null || o.value === undefined ? (o.qualifier ? words(o.qualifier) : "") : `${o.value}${o.unit && o.unit !== "score" ? ` ${o.unit}` : ""}`;
  return `${new Date(o.answeredAt).toLocaleDateString()}: ${what} ${value}`.trim();
}

/** A corrected value of a pain score, range of motion or pressure threshold: a new version that supersedes this one, with the reason. */
function amendForm(api: Api, patientId: number, o: Schemas["ObservationResponse"], details: HTMLElement, done: () => void): HTMLElement | null {
  if (!["painScore", "rangeOfMotion", "pressurePainThreshold"].includes(o.kind)) return null;
  const value = uid("value");
  const reason = uid("why");
  const form = h("form", { class: "inline" },
    h("label", { for: value }, "Corrected value"), h("input", { id: value, name: "value", type: "number", step: "0.01", required: true, value: String(o.value ?? "") }),
    h("label", { for: reason }, "Why it is corrected"), h("input", { id: reason, name: "reason", required: true, maxlength: 500 }),
    h("button", { type: "submit", class: "secondary" }, "Correct the value"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const common = { submissionId: crypto.randomUUID(), answeredAt: o.answeredAt, amends: o.id, reason: String(data.get("reason")) };
    const path = { params: { path: { patientId } } };
    const corrected = Number(data.get("value"));
    const result = o.kind === "painScore"
      ? await api.POST("/api/v1/patients/{patientId}/pain-scores", { ...path, body: { ...common, score: corrected, recall: o.qualifier as Schemas["PainRecall"] } })
      : o.kind === "rangeOfMotion"
        ? await api.POST("/api/v1/patients/{patientId}/range-of-motion", { ...path, body: { ...common, movement: o.code, degrees: corrected, method: o.qualifier as Schemas["RomMethod"] } })
        : await api.POST("/api/v1/patients/{patientId}/pressure-pain-thresholds", { ...path, body: { ...common, muscle: o.code, side: o.bodySide as Schemas["BodySide"], kgPerCm2: corrected } });
    if (result.response.ok) done();
    else details.replaceChildren(problemList(result.error));
  });
  return form;
}

export async function recordsSection(api: Api, patientId: number, done: () => void): Promise<HTMLElement> {
  const { data } = await api.GET("/api/v1/patients/{patientId}/observations", { params: { path: { patientId }, query: { limit: 500 } } });
  const recent = (data?.items ?? []).slice(-20).reverse();
  const list = h("ul", { class: "records" }, ...recent.map((o) => {
    const details = h("div", {});
    const reasonId = uid("reason");
    const history = h("button", {
      type: "button", class: "link", "aria-expanded": "false", onclick: async () => {
        const versions = await api.GET("/api/v1/patients/{patientId}/observations/{observationId}/history", { params: { path: { patientId, observationId: o.id } } });
        history.setAttribute("aria-expanded", "true");
        details.replaceChildren(h("ol", { class: "history" }, ...(versions.data ?? []).map((v) =>
          h("li", {}, `${describe(v)}: ${v.status === "enteredInError" ? "entered in error" : v.status}, recorded ${new Date(v.receivedAt).toLocaleString()} by the ${v.recordedByRole}${v.changeReason ? `; reason: ${v.changeReason}` : ""}`))));
      },
    }, "History");
    const withdraw = h("form", { class: "inline" },
      h("label", { for: reasonId }, "Reason it was entered in error"), h("input", { id: reasonId, name: "reason", required: true, maxlength: 500 }),
      h("button", { type: "submit", class: "secondary" }, "Mark entered in error"));
    withdraw.addEventListener("submit", async (event) => {
      event.preventDefault();
      const result = await api.POST("/api/v1/patients/{patientId}/observations/{observationId}/entered-in-error", {
        params: { path: { patientId, observationId: o.id } },
        body: { submissionId: crypto.randomUUID(), reason: String(new FormData(withdraw).get("reason")) },
      });
      if (result.response.ok) done();
      else details.replaceChildren(problemList(result.error));
    });
    return h("li", {}, h("span", {}, describe(o)), " ", history,
      h("details", {}, h("summary", {}, "Correct"), amendForm(api, patientId, o, details, done), withdraw), details);
  }));
  return h("section", { class: "card", "aria-labelledby": "rec-list-h" }, h("h2", { id: "rec-list-h" }, "Recent records"),
    recent.length === 0 ? h("p", {}, "None yet.") : list,
    h("p", { class: "note" }, "Nothing is changed in place: a correction or a withdrawal is a new version, and the history keeps every one."));
}

export async function devicesSection(api: Api, patientId: number, done: () => void): Promise<HTMLElement> {
  const { data } = await api.GET("/api/v1/patients/{patientId}/devices", { params: { path: { patientId } } });
  const devices = data ?? [];
  return h("section", { class: "card", "aria-labelledby": "dev-h" }, h("h2", { id: "dev-h" }, "Paired devices"),
    devices.length === 0 ? h("p", {}, "No device paired.") : h("ul", {}, ...devices.map((d) => h("li", {},
      `${d.name}, paired ${new Date(d.pairedAt).toLocaleDateString()}`,
      d.revokedAt
        ? ` (unpaired ${new Date(d.revokedAt).toLocaleDateString()}${d.revokedReason ? `: ${d.revokedReason}` : ""})`
        : h("button", {
          type: "button", class: "secondary", "aria-label": `Unpair ${d.name}`, onclick: async () => {
            await api.POST("/api/v1/patients/{patientId}/devices/{deviceId}/revocation", { params: { path: { patientId, deviceId: d.id } }, body: { reason: "Unpaired by the clinic" } });
            done();
          },
        }, "Unpair")))));
}
