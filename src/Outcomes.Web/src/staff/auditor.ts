// The auditor's dashboard: a cohort's response rates with their intervals, a comparison, the Kaplan–Meier curve,
// rates per quarter, the CSV export and the audit trail. A withheld cell is shown as withheld, never as zero.
import type { Schemas } from "../api";
import { h, show, words } from "../dom";
import { staffApi } from "./api";
import type { Staff } from "./auth";

type Query = { condition?: Schemas["Condition"]; siteId?: number; measure: string; week: number; firstCycleOnly?: boolean };
const SVG = "http://www.w3.org/2000/svg";
const CONDITIONS = ["myofascialPainSyndrome", "chronicTensionTypeHeadache", "chronicMigraine", "neckShoulderPain", "lowBackPain", "fibromyalgiaAssociatedSpasm"];
const WITHHELD = "Withheld (fewer than the small-cell threshold)";

const percent = (x: number | null | undefined) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);

function rateCells(cell: Schemas["RateCell"]): HTMLElement[] {
  if (cell.suppressed) return [h("td", { class: "withheld", colspan: 4 }, WITHHELD)];
  return [
    h("td", {}, `${cell.k} of ${cell.n}`),
    h("td", {}, percent(cell.rate)),
    h("td", {}, `${percent(cell.lower)} to ${percent(cell.upper)}`),
    h("td", {}, `${percent(cell.clusteredLower)} to ${percent(cell.clusteredUpper)}`),
  ];
}

function count(cell: Schemas["CountCell"]): string {
  return cell.suppressed ? WITHHELD : `${cell.cycles} cycles, ${cell.patients} patients`;
}

function curve(points: Schemas["CurvePoint"][]): Element {
  const shown = points.filter((p) => !p.suppressed && p.survival !== null && p.survival !== undefined);
  const width = 560;
  const height = 200;
  const x = (week: number) => 40 + (week / 52) * (width - 60);
  const y = (s: number) => 10 + (1 - s) * (height - 40);
  const chart = document.createElementNS(SVG, "svg");
  chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
  chart.setAttribute("class", "chart");
  chart.setAttribute("role", "img");
  chart.setAttribute("aria-label", shown.length === 0
    ? "No part of the curve can be shown: its risk sets are below the small-cell threshold."
    : `Share still responding: ${shown.map((p) => `week ${p.week} ${percent(p.survival)}`).join(", ")}.`);
  if (shown.length > 0) {
    let path = `M ${x(0)} ${y(1)}`;
    for (const p of shown) path += ` H ${x(p.week)} V ${y(p.survival!)}`;
    const line = document.createElementNS(SVG, "path");
    line.setAttribute("d", path);
    line.setAttribute("class", "line");
    chart.append(line);
  }
  return chart;
}

const GROUPINGS = ["guidance", "product", "doseBand", "condition", "site", "practitioner", "cycle"] as const;
type Grouping = (typeof GROUPINGS)[number];

async function load(api: ReturnType<typeof staffApi>, query: Query, by: Grouping, results: HTMLElement): Promise<void> {
  const params = { query };
  const [outcomes, compare, duration, overTime, audit] = await Promise.all([
    api.GET("/api/v1/cohorts/outcomes", { params }),
    api.GET("/api/v1/cohorts/compare", { params: { query: { ...query, by } } }),
    api.GET("/api/v1/cohorts/duration", { params }),
    api.GET("/api/v1/cohorts/over-time", { params }),
    api.GET("/api/v1/audit-events", { params: { query: { limit: 20, from: new Date(Date.now() - 3_600_000).toISOString() } } }),
  ]);
  const summary = outcomes.data?.summary;
  const rows: [string, Schemas["RateCell"] | undefined][] = [
    ["30% relief", summary?.responders30],
    ["50% relief", summary?.responders50],
    ["Important change", summary?.respondersImportantChange],
    ["Any side effect", summary?.sideEffects],
    ["Serious side effect", summary?.seriousSideEffects],
  ];
  const mean = summary?.meanChange;
  results.replaceChildren(
    h("section", { class: "card", "aria-labelledby": "sum-h" }, h("h2", { id: "sum-h" }, `Outcomes at week ${query.week}`),
      !summary ? h("p", {}, "No answer from the service.") : h("div", {},
        h("p", {}, `Patients: ${count(summary.patients)}. With a value in the window: ${count(summary.withValue)}. Missing: ${count(summary.noValueInWindow)}.`),
        h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Response rates" },
          h("table", {},
            h("caption", {}, "Rates of the cycles with a value in the window; 95% intervals: Wilson (cycles as independent) and clustered by patient"),
            h("thead", {}, h("tr", {}, ...["", "Cycles", "Rate", "95% interval", "Clustered 95% interval"].map((c) => h("th", { scope: "col" }, c)))),
            h("tbody", {}, ...rows.filter(([, cell]) => cell).map(([name, cell]) => h("tr", {}, h("th", { scope: "row" }, name), ...rateCells(cell!)))))),
        h("p", {}, mean?.suppressed || !mean ? `Mean change: ${WITHHELD}` : `Mean change: ${mean.mean?.toFixed(2)} (95% interval ${mean.lower?.toFixed(2)} to ${mean.upper?.toFixed(2)}; n = ${mean.n}).`))),
    h("section", { class: "card", "aria-labelledby": "cmp-h" }, h("h2", { id: "cmp-h" }, `By ${words(by).toLowerCase()}`),
      h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": `Response by ${words(by).toLowerCase()}` },
        h("table", {}, h("thead", {}, h("tr", {}, ...[words(by), "Cycles", "Rate", "95% interval", "Clustered"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, ...(compare.data?.groups ?? []).map((g) => h("tr", {}, h("th", { scope: "row" }, g.group === "emg" ? "EMG" : words(g.group)), ...rateCells(g.rate))))))),
    h("section", { class: "card", "aria-labelledby": "km-h" }, h("h2", { id: "km-h" }, "Duration of response (Kaplan–Meier)"),
      duration.data?.duration.suppressed || !duration.data
        ? h("p", {}, `Median duration: ${WITHHELD}`)
        : h("p", {}, duration.data.duration.medianDays === null || duration.data.duration.medianDays === undefined
          ? "Median duration: not reached (more than half still responding)."
          : `Median duration: ${duration.data.duration.medianDays} days (95% interval ${duration.data.duration.medianLowerDays ?? "—"} to ${duration.data.duration.medianUpperDays ?? "not reached"}).`),
      curve(duration.data?.duration.curve ?? [])),
    h("section", { class: "card", "aria-labelledby": "q-h" }, h("h2", { id: "q-h" }, "By quarter of the session"),
      (overTime.data?.quarters ?? []).length === 0 ? h("p", {}, "No quarter to show.") :
        h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Response by quarter" },
          h("table", {}, h("thead", {}, h("tr", {}, ...["Quarter", "Cycles", "Rate", "95% interval", "Clustered"].map((c) => h("th", { scope: "col" }, c)))),
            h("tbody", {}, ...(overTime.data?.quarters ?? []).map((g) => h("tr", {}, h("th", { scope: "row" }, g.group), ...rateCells(g.rate))))))),
    h("section", { class: "card", "aria-labelledby": "audit-h" }, h("h2", { id: "audit-h" }, "Audit trail: the first 20 events of the last hour"),
      h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Audit trail" },
        h("table", {}, h("thead", {}, h("tr", {}, ...["When", "Who", "Action", "Resource", "Outcome"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, ...(audit.data?.items ?? []).map((e) => h("tr", {},
            h("td", {}, new Date(e.occurredAt).toLocaleString()), h("td", {}, `${e.actor} (${e.role})`), h("td", {}, e.action),
            h("td", {}, e.resourceType), h("td", {}, e.outcome))))))),
  );
}

export async function auditorDashboard(staff: Staff): Promise<void> {
  const api = staffApi(staff);
  const results = h("div", { "aria-live": "polite" });
  const status = h("p", { role: "status", class: "note" });
  const form = h("form", { class: "card filters" },
    h("h2", {}, "Cohort"),
    h("label", { for: "f-condition" }, "Condition"),
    h("select", { id: "f-condition", name: "condition" }, h("option", { value: "" }, "All"), ...CONDITIONS.map((c) => h("option", { value: c }, words(c)))),
    h("label", { for: "f-site" }, "Site id"), h("input", { id: "f-site", name: "siteId", type: "number", min: 1 }),
    h("label", { for: "f-measure" }, "Measure"), h("input", { id: "f-measure", name: "measure", value: "pain_nrs" }),
    h("label", { for: "f-week" }, "Week"), h("select", { id: "f-week", name: "week" }, ...[2, 6, 12, 24].map((w) => h("option", { value: w, selected: w === 12 }, `Week ${w}`))),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "firstCycleOnly" }), " First cycle of each patient only"),
    h("label", { for: "f-by" }, "Compare by"), h("select", { id: "f-by", name: "by" }, ...GROUPINGS.map((g) => h("option", { value: g }, words(g)))),
    h("button", { type: "submit" }, "Show the cohort"),
    h("label", { for: "f-salt" }, "Export salt (at least 16 characters: the same salt gives the same patient keys)"),
    h("input", { id: "f-salt", name: "salt", minlength: 16 }),
    h("button", { type: "button", class: "secondary", id: "export" }, "Download the CSV export"),
    status);
  const query = (): Query => {
    const data = new FormData(form);
    return {
      condition: (String(data.get("condition")) || undefined) as Schemas["Condition"] | undefined,
      siteId: data.get("siteId") ? Number(data.get("siteId")) : undefined,
      measure: String(data.get("measure") || "pain_nrs"),
      week: Number(data.get("week")),
      firstCycleOnly: data.get("firstCycleOnly") ? true : undefined,
    };
  };
  const by = (): Grouping => String(new FormData(form).get("by") ?? "guidance") as Grouping;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void load(api, query(), by(), results);
  });
  form.querySelector("#export")!.addEventListener("click", async () => {
    const salt = String(new FormData(form).get("salt") ?? "");
    const { data, error, response } = await api.GET("/api/v1/cohorts/export.csv", { params: { query: { ...query(), salt } }, parseAs: "blob" });
    if (!data) {
      status.textContent = `No export: ${(error as { detail?: string; errors?: Record<string, string[]> } | undefined)?.detail ?? response.status}`;
      return;
    }
    const link = h("a", { href: URL.createObjectURL(data), download: "cohort.csv" }, "cohort.csv");
    link.click();
    status.textContent = `Exported: ${response.headers.get("Outcomes-Suppressed-Rows") ?? "0"} rows suppressed, generalised: ${response.headers.get("Outcomes-Generalised") ?? "none"}.`;
  });
  show(h("h1", {}, "Cohort outcomes"),
    h("p", { class: "note" }, `Signed in as ${staff.name} (${staff.role}). De-identified: cells of fewer patients than the clinic's threshold are withheld.`),
    form, results);
  await load(api, query(), by(), results);
}
