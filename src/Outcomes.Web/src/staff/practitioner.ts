// The practitioner's screens: the patient list, and a patient's page (trend chart with sessions, outcomes per cycle,
// recording a session with the dose checks, pairing a phone).
import type { Schemas } from "../api";
import { h, show, uid, words } from "../dom";
import { staffApi } from "./api";
import type { Staff } from "./auth";
import { devicesSection, measurementForms, problemList, recordsSection } from "./records";

type Api = ReturnType<typeof staffApi>;
const SVG = "http://www.w3.org/2000/svg";

/** The products as clinicians name them. */
const PRODUCTS: Record<string, string> = {
  onabotulinumtoxinA: "OnabotulinumtoxinA (Botox)",
  abobotulinumtoxinA: "AbobotulinumtoxinA (Dysport)",
  incobotulinumtoxinA: "IncobotulinumtoxinA (Xeomin)",
};

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text) element.textContent = text;
  return element;
}

export async function patientList(staff: Staff): Promise<void> {
  const api = staffApi(staff);
  const { data, error } = await api.GET("/api/v1/patients/summaries", { params: { query: { limit: 50 } } });
  if (!data) throw new Error(JSON.stringify(error));
  // On each page, patients with serious side effects or open serious alerts come first, then the rest in their order.
  const flagged = (p: Schemas["PatientSummary"]) => p.seriousSideEffects + p.openSeriousAlerts + p.seriousWithdrawalsAwaitingReview > 0;
  const ordered = [...data.items.filter(flagged), ...data.items.filter((p) => !flagged(p))];
  const rows = ordered.map((p) =>
    h("tr", {},
      h("th", { scope: "row" }, h("a", { href: `#/staff/patients/${p.id}` }, p.externalReference)),
      h("td", {}, p.latestPainScore === null || p.latestPainScore === undefined ? "—" : String(p.latestPainScore)),
      h("td", {}, p.currentCycleStatus ? words(p.currentCycleStatus) : "No session yet"),
      h("td", {}, p.weeksSinceLastSession === null || p.weeksSinceLastSession === undefined ? "—" : String(p.weeksSinceLastSession)),
      h("td", { class: p.seriousSideEffects + p.openSeriousAlerts > 0 ? "flag" : "" },
        p.seriousSideEffects + p.openSeriousAlerts > 0 ? `${p.seriousSideEffects} serious, ${p.openSeriousAlerts} open alerts` : "None"),
      h("td", {}, p.due.length === 0 ? "Nothing" : p.due.map((d) => (d.kind === "painScore" ? "Pain score" : d.instrument.toUpperCase())).join(", "))));
  show(
    h("h1", {}, "Patients"),
    h("p", { class: "note" }, `Signed in as ${staff.name} (${staff.role}). On each page, patients with serious side effects or open alerts come first.`),
    h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Patients" },
      h("table", {},
        h("caption", {}, data.items.length === 1 ? "1 patient" : `${data.items.length} patients`),
        h("thead", {}, h("tr", {}, ...["Patient", "Latest pain (0–10)", "Current cycle", "Weeks since session", "Side effects", "Due"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, ...rows))));
}

function trendChart(trend: Schemas["TrendResponse"] | undefined): HTMLElement {
  const section = h("section", { class: "card", "aria-labelledby": "trend-h" }, h("h2", { id: "trend-h" }, "Pain trend"));
  const points = trend?.series ?? [];
  const sessions = trend?.sessions ?? [];
  if (points.length === 0 && sessions.length === 0) {
    section.append(h("p", {}, "No pain scores or sessions yet."));
    return section;
  }
  const days = [...points.map((p) => p.day), ...sessions.map((s) => s.date)].map((d) => Date.parse(d));
  const first = Math.min(...days);
  const last = Math.max(...days, first + 86_400_000);
  const width = 640;
  const height = 220;
  const x = (day: string) => 40 + ((Date.parse(day) - first) / (last - first)) * (width - 60);
  const y = (v: number) => 15 + ((10 - v) * (height - 40)) / 10;
  const latest = points.at(-1);
  const label = `Weekly pain from ${points[0]?.day ?? "—"} to ${latest?.day ?? "—"}; latest ${latest ? latest.value.toFixed(1) : "—"}; ${sessions.length} sessions.`;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": label });
  for (const v of [0, 5, 10]) {
    chart.append(svg("line", { x1: 40, x2: width - 20, y1: y(v), y2: y(v), class: "grid" }), svg("text", { x: 30, y: y(v) + 4, class: "axis", "text-anchor": "end" }, String(v)));
  }
  for (const s of sessions) {
    chart.append(svg("line", { x1: x(s.date), x2: x(s.date), y1: 10, y2: height - 25, class: "session" }),
      svg("text", { x: x(s.date) + (x(s.date) > width / 2 ? -3 : 3), y: height - 10, class: "axis", "text-anchor": x(s.date) > width / 2 ? "end" : "start" },
        `${s.date} · ${s.totalUnits} U`));
  }
  if (points.length > 0) chart.append(svg("polyline", { points: points.map((p) => `${x(p.day)},${y(p.value)}`).join(" "), class: "line" }));
  section.append(chart, h("p", { class: "note" }, label));
  return section;
}

function outcomesTable(outcomes: Schemas["OutcomesResponse"] | undefined): HTMLElement {
  const pain = outcomes?.measures.find((m) => m.measure === "pain_nrs");
  const section = h("section", { class: "card", "aria-labelledby": "out-h" }, h("h2", { id: "out-h" }, "Outcomes by treatment cycle (pain)"));
  if (!pain || pain.cycles.length === 0) {
    section.append(h("p", {}, "No treatment cycle yet."));
    return section;
  }
  const week = (c: Schemas["CycleOutcome"], w: number) => {
    const window = c.windows.find((x) => x.week === w);
    return window?.value ? `${window.value.value}${window.change?.percent !== null && window.change?.percent !== undefined ? ` (${window.change.percent > 0 ? "+" : ""}${window.change.percent}%)` : ""}` : window ? words(window.status) : "—";
  };
  section.append(h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Outcomes by cycle" },
    h("table", {},
      h("thead", {}, h("tr", {}, ...["Session", "Baseline", "Week 6", "Week 12", "Status"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, ...pain.cycles.map((c) => h("tr", {},
        h("th", { scope: "row" }, c.session),
        h("td", {}, c.baseline?.value !== undefined && c.baseline?.value !== null ? String(c.baseline.value) : "None"),
        h("td", {}, week(c, 6)), h("td", {}, week(c, 12)), h("td", {}, words(c.status))))))));
  return section;
}

function sessionForm(api: Api, staff: Staff, patientId: number, muscles: Schemas["Muscle"][], done: () => void): HTMLElement {
  const errors = h("div", { role: "alert", class: "error" });
  const sites = h("div", { class: "sites" });
  const addSite = () => {
    const m = uid("muscle");
    const s = uid("side");
    const u = uid("units");
    sites.append(h("fieldset", { class: "site" }, h("legend", {}, `Injection site ${sites.children.length + 1}`),
      h("label", { for: m }, "Muscle"), h("select", { id: m, name: "muscle", required: true }, ...muscles.map((x) => h("option", { value: x.code }, x.name))),
      h("label", { for: s }, "Side"), h("select", { id: s, name: "side" }, h("option", { value: "left" }, "Left"), h("option", { value: "right" }, "Right")),
      h("label", { for: u }, "Units"), h("input", { id: u, name: "units", type: "number", min: "0.5", step: "0.5", value: "20", required: true })));
  };
  addSite();
  const confirm = h("div", { hidden: true },
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "highDoseConfirmed" }), " I confirm this dose"),
    h("label", { for: "high-reason" }, "Why this dose is right"), h("input", { id: "high-reason", name: "highDoseReason", type: "text", maxlength: 500 }));
  const form = h("form", { class: "card", "aria-labelledby": "rec-h" },
    h("h2", { id: "rec-h" }, "Record a session"),
    h("label", { for: "s-date" }, "Session date"), h("input", { id: "s-date", name: "sessionDate", type: "date", required: true, value: new Date().toISOString().slice(0, 10) }),
    h("label", { for: "s-product" }, "Product"), h("select", { id: "s-product", name: "product" }, ...Object.entries(PRODUCTS).map(([code, name]) => h("option", { value: code }, name))),
    h("label", { for: "s-guidance" }, "Guidance"), h("select", { id: "s-guidance", name: "guidance" }, ...["palpation", "emg", "ultrasound"].map((g) => h("option", { value: g }, g === "emg" ? "EMG" : words(g)))),
    h("label", { for: "s-dilution" }, "Dilution (units per mL)"), h("input", { id: "s-dilution", name: "dilution", type: "number", min: "1", step: "0.5", value: "50", required: true }),
    staff.practitionerId ? null : h("div", {}, h("label", { for: "s-prac" }, "Injecting practitioner (id)"), h("input", { id: "s-prac", name: "practitionerId", type: "number", required: true })),
    sites,
    h("button", { type: "button", class: "secondary", onclick: () => addSite() }, "Add a site"),
    confirm,
    h("button", { type: "submit" }, "Record the session"),
    errors);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const muscle = data.getAll("muscle").map(String);
    const side = data.getAll("side").map(String);
    const units = data.getAll("units").map(Number);
    const body: Schemas["CreateTreatmentSessionRequest"] = {
      submissionId: crypto.randomUUID(),
      sessionDate: String(data.get("sessionDate")),
      practitionerId: staff.practitionerId ?? Number(data.get("practitionerId")),
      product: String(data.get("product")) as Schemas["Product"],
      guidance: String(data.get("guidance")) as Schemas["Guidance"],
      dilutionUnitsPerMl: Number(data.get("dilution")),
      injectionSites: muscle.map((code, i) => ({ muscle: code, side: side[i] as Schemas["BodySide"], units: units[i]! })),
      highDoseConfirmed: data.get("highDoseConfirmed") ? true : null,
      highDoseReason: data.get("highDoseConfirmed") ? String(data.get("highDoseReason") ?? "") : null,
    };
    const result = await api.POST("/api/v1/patients/{patientId}/treatment-sessions", { params: { path: { patientId } }, body });
    if (result.response.ok) {
      done();
      return;
    }
    const problem = result.error as { errors?: Record<string, string[]> } | undefined;
    // A dose above a plausibility ceiling asks for a confirmation and its reason.
    if (Object.values(problem?.errors ?? {}).flat().some((message) => message.includes("highDoseConfirmed"))) confirm.hidden = false;
    errors.replaceChildren(problemList(result.error));
  });
  return form;
}

function pairingSection(api: Api, patientId: number): HTMLElement {
  const result = h("div", { role: "status" });
  return h("section", { class: "card", "aria-labelledby": "pair-h" }, h("h2", { id: "pair-h" }, "Pair the patient's phone"),
    h("p", {}, "A one-time code, good for 24 hours. The patient scans the QR code or types the code."),
    h("button", {
      type: "button", onclick: async () => {
        const { data } = await api.POST("/api/v1/patients/{patientId}/pairing-codes", { params: { path: { patientId } } });
        if (!data) return;
        const qr = new DOMParser().parseFromString(data.qrCodeSvg, "image/svg+xml").documentElement;
        qr.setAttribute("role", "img");
        qr.setAttribute("aria-label", `QR code of the pairing link for code ${data.code}`);
        qr.setAttribute("class", "qr");
        result.replaceChildren(h("p", { class: "code" }, data.code), document.importNode(qr, true),
          h("p", { class: "note" }, `Good until ${new Date(data.expiresAt).toLocaleString()}.`));
      },
    }, "Make a pairing code"),
    result);
}

export async function patientPage(staff: Staff, patientId: number): Promise<void> {
  const api = staffApi(staff);
  const path = { params: { path: { patientId } } };
  const [patient, trend, outcomes, sessions, muscles, movements] = await Promise.all([
    api.GET("/api/v1/patients/{patientId}", path),
    api.GET("/api/v1/patients/{patientId}/trend", { params: { path: { patientId }, query: { measure: "pain_nrs" } } }),
    api.GET("/api/v1/patients/{patientId}/outcomes", { params: { path: { patientId }, query: { measure: "pain_nrs" } } }),
    api.GET("/api/v1/patients/{patientId}/treatment-sessions", path),
    api.GET("/api/v1/catalogue/muscles", {}),
    api.GET("/api/v1/catalogue/movements", {}),
  ]);
  if (!patient.data) {
    show(h("h1", {}, "Patient not found"), h("p", {}, h("a", { href: "#/staff" }, "Back to the patient list")));
    return;
  }
  const p = patient.data;
  const again = () => void patientPage(staff, patientId);
  const [records, devices] = await Promise.all([recordsSection(api, patientId, again), devicesSection(api, patientId, again)]);
  show(
    h("p", {}, h("a", { href: "#/staff" }, "← All patients")),
    h("h1", {}, `Patient ${p.externalReference}`),
    h("p", { class: "note" }, `Born ${p.birthYear}, ${words(p.sex).toLowerCase()}; enrolled ${p.enrolledOn}; ${p.conditions.map(words).join(", ")}.`,
      p.seriousSideEffects > 0 ? h("strong", { class: "flag" }, ` ${p.seriousSideEffects} serious side effect(s) reported.`) : null),
    trendChart(trend.data),
    outcomesTable(outcomes.data),
    h("section", { class: "card", "aria-labelledby": "sess-h" }, h("h2", { id: "sess-h" }, "Treatment sessions"),
      (sessions.data ?? []).length === 0 ? h("p", {}, "None yet.") : h("ul", { class: "sessions" }, ...(sessions.data ?? []).map((s) => {
        const details = h("div", {});
        const history = h("button", {
          type: "button", class: "link", "aria-expanded": "false", onclick: async () => {
            const versions = await api.GET("/api/v1/patients/{patientId}/treatment-sessions/{sessionId}/history", { params: { path: { patientId, sessionId: s.id } } });
            history.setAttribute("aria-expanded", "true");
            details.replaceChildren(h("ol", { class: "history" }, ...(versions.data ?? []).map((v) => h("li", {},
              `${v.sessionDate}: ${v.totalUnits} units, ${v.status === "enteredInError" ? "entered in error" : v.status}, recorded ${new Date(v.recordedAt).toLocaleString()}`
              + `${v.changeReason ? `; reason: ${v.changeReason}` : ""}${v.highDoseReason ? `; high dose: ${v.highDoseReason}` : ""}`))));
          },
        }, "History");
        return h("li", {}, `${s.sessionDate}: ${PRODUCTS[s.product] ?? s.product}, ${s.totalUnits} units, ${s.guidance === "emg" ? "EMG" : words(s.guidance)}; ${s.injectionSites.map((x) => `${words(x.muscle)} ${x.side} ${x.units}`).join(", ")} `,
          history, details);
      }))),
    sessionForm(api, staff, patientId, muscles.data ?? [], again),
    measurementForms(api, patientId, movements.data ?? [], muscles.data ?? [], again),
    records,
    pairingSection(api, patientId),
    devices,
  );
}
