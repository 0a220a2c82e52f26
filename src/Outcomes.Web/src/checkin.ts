// The patient's check-in: what is due, the weekly pain score, due questionnaires, a side-effect report, what is
// waiting to be sent and what arrived, and the patient's own trend.
import { get, set } from "idb-keyval";
import { api, type Schemas } from "./api";
import { h, render as paint, uid, words } from "./dom";
import { enqueue, flush, queued, type Queued } from "./queue";
import { Unpaired, type DeviceSession } from "./session";

type Instrument = Schemas["InstrumentDefinition"];
type Due = Schemas["DueResponse"];
type Trend = Schemas["TrendResponse"];
type Wording = Schemas["InstrumentWordingResponse"];

/** Public wording (pain NRS and PGIC are not licensed); other instruments show item codes until the clinic adds its licensed wording. */
const PUBLIC_WORDING: Record<string, { question: string; items?: Record<string, string> }> = {
  pgic: {
    question: "Since the start of your treatment, how would you describe the change, if any, in your pain and how you get on with everyday life?",
  },
};

const SERIOUS_EFFECTS = new Set(["difficultySwallowing", "droopingEyelid", "breathingDifficulty"]);

/** Read through the network, keep a copy for offline use, and fall back to it. */
async function cached<T>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    const fresh = await load();
    if (fresh !== undefined) await set(key, fresh);
    return fresh ?? (await get<T>(key));
  } catch (error) {
    if (error instanceof Unpaired) throw error;
    return get<T>(key);
  }
}

const newId = (): string => crypto.randomUUID();
const now = (): string => new Date().toISOString();
const today = (): string => new Date().toISOString().slice(0, 10);

function painForm(session: DeviceSession, refresh: () => void): HTMLElement {
  const legend = uid("pain");
  const scale = h("div", { class: "scale" });
  for (let score = 0; score <= 10; score++) {
    const id = uid("score");
    scale.append(
      h("span", { class: "scale-option" },
        h("input", { type: "radio", name: "score", id, value: score, required: true }),
        h("label", { for: id }, String(score))),
    );
  }
  const form = h("form", { class: "card", "aria-labelledby": legend },
    h("h2", { id: legend }, "Weekly pain score"),
    h("fieldset", {},
      h("legend", {}, "Please rate your pain by selecting the one number that best describes your pain on average over the past 7 days."),
      h("p", { class: "anchors", "aria-hidden": "true" }, h("span", {}, "0 = no pain"), h("span", {}, "10 = worst pain imaginable")),
      scale),
    h("button", { type: "submit" }, "Send my pain score"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const score = Number(new FormData(form).get("score"));
    await enqueue(session.patientId, `Pain score ${score}`, {
      kind: "painScore",
      body: { submissionId: newId(), answeredAt: now(), score, recall: "average7Days" },
    });
    form.reset();
    refresh();
  });
  return form;
}

function questionnaireForm(session: DeviceSession, instrument: Instrument, licensed: Wording | undefined, refresh: () => void): HTMLElement {
  const heading = uid("q");
  const wording = PUBLIC_WORDING[instrument.code];
  const fields = instrument.items.map((item, index) => {
    const legend = licensed?.items[item.code]
      ?? (wording?.question && instrument.items.length === 1 ? wording.question : `Item ${index + 1} (${item.code})`);
    const group = h("div", { class: "scale" });
    const values: { value: string; label: string }[] = item.options?.length
      ? item.options.map((o) => ({ value: o.code, label: words(o.code) }))
      : Array.from({ length: (item.max ?? 0) - (item.min ?? 0) + 1 }, (_, i) => String((item.min ?? 0) + i)).map((v) => ({ value: v, label: v }));
    for (const { value, label } of values) {
      const id = uid("a");
      group.append(h("span", { class: item.options?.length ? "choice" : "scale-option" },
        h("input", { type: "radio", name: item.code, id, value, required: true }), h("label", { for: id }, label)));
    }
    return h("fieldset", {}, h("legend", {}, legend), group);
  });
  const form = h("form", { class: "card", "aria-labelledby": heading },
    h("h2", { id: heading }, instrument.name),
    licensed?.title ? h("p", {}, licensed.title) : null,
    wording || licensed ? null : h("p", { class: "note" }, "The clinic has not added this questionnaire's wording here: answer each item as numbered on your paper copy."),
    ...fields,
    h("button", { type: "submit" }, `Send ${instrument.name}`));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const answers = instrument.items.map((item) =>
      item.options?.length ? { item: item.code, option: String(data.get(item.code)) } : { item: item.code, value: Number(data.get(item.code)) });
    await enqueue(session.patientId, instrument.name, {
      kind: "questionnaire",
      body: { submissionId: newId(), answeredAt: now(), instrument: instrument.code, version: instrument.version, answers },
    });
    form.reset();
    refresh();
  });
  return form;
}

function sideEffectForm(session: DeviceSession, state: { serious: boolean }, refresh: () => void): HTMLElement {
  const effect = uid("effect");
  const severity = uid("severity");
  const onset = uid("onset");
  const note = uid("note");
  const warning = h("div", { class: "urgent", role: "alert", hidden: !state.serious },
    ...(state.serious
      ? [h("strong", {}, "Contact the clinic now."),
        " This can be a serious effect of the injection. Call the clinic today. If you have difficulty breathing or swallowing, call emergency services (112, 999 or 911) straight away: do not wait for the clinic."]
      : []));
  const effects = ["muscleWeakness", "injectionSitePain", "bruising", "headache", "fluLikeSymptoms", "difficultySwallowing", "droopingEyelid", "breathingDifficulty", "other"];
  const form = h("form", { class: "card" },
    h("h2", {}, "Report a side effect"),
    h("label", { for: effect }, "What happened"),
    h("select", { id: effect, name: "effect", required: true }, h("option", { value: "" }, "Choose…"), ...effects.map((e) => h("option", { value: e }, words(e)))),
    h("label", { for: severity }, "How bad is it"),
    h("select", { id: severity, name: "severity", required: true }, h("option", { value: "" }, "Choose…"), ...["mild", "moderate", "severe"].map((s) => h("option", { value: s }, words(s)))),
    h("label", { for: onset }, "When did it start"),
    h("input", { id: onset, name: "onsetOn", type: "date", required: true, max: today() }),
    h("label", { for: note }, "What it was (only for “Other”; no names or phone numbers)"),
    h("input", { id: note, name: "note", type: "text", maxlength: 200 }),
    h("button", { type: "submit" }, "Send the report"),
    warning);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const chosen = String(data.get("effect")) as Schemas["SideEffect"];
    const level = String(data.get("severity")) as Schemas["Severity"];
    const text = String(data.get("note") ?? "").trim();
    await enqueue(session.patientId, `Side effect: ${words(chosen)}`, {
      kind: "sideEffect",
      body: { submissionId: newId(), answeredAt: now(), effect: chosen, severity: level, onsetOn: String(data.get("onsetOn")), note: chosen === "other" ? text : null },
    });
    state.serious = SERIOUS_EFFECTS.has(chosen) || level === "severe";
    refresh();
  });
  return form;
}

function queueList(items: Queued[]): HTMLElement {
  const pending = items.filter((i) => i.state === "pending");
  const settled = items.filter((i) => i.state !== "pending").slice(-8).reverse();
  const time = (iso: string) => new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  return h("section", { class: "card", "aria-labelledby": "sent-heading" },
    h("h2", { id: "sent-heading" }, "Sent and waiting"),
    h("p", { id: "pending-count", role: "status" },
      pending.length === 0 ? "Nothing is waiting to be sent." : `${pending.length} waiting to be sent: they go as soon as this phone is online.`),
    h("ul", { class: "queue" },
      ...pending.map((i) => h("li", { class: "pending" }, `${i.label}: waiting (saved ${time(i.createdAt)})`)),
      ...settled.map((i) => h("li", { class: i.state }, i.state === "arrived"
        ? `${i.label}: arrived ${time(i.settledAt!)}`
        : `${i.label}: not accepted. ${i.detail ?? ""}`))));
}

function trendView(trend: Trend | undefined): HTMLElement {
  const section = h("section", { class: "card", "aria-labelledby": "trend-heading" }, h("h2", { id: "trend-heading" }, "Your pain over time"));
  const points = trend?.series ?? [];
  if (points.length === 0) {
    section.append(h("p", {}, "Your scores will show here once you have sent some."));
    return section;
  }
  const latest = points[points.length - 1]!;
  const recent = points.slice(-4);
  const before = points.slice(-8, -4);
  const mean = (p: typeof points) => p.reduce((s, x) => s + x.value, 0) / p.length;
  const sentence = [`Your latest weekly score: ${latest.value.toFixed(1)} (week of ${latest.day}).`];
  if (before.length > 0) {
    const change = mean(recent) - mean(before);
    sentence.push(Math.abs(change) < 0.5
      ? "About the same as the month before."
      : `${change < 0 ? "Lower" : "Higher"} than the month before, by ${Math.abs(change).toFixed(1)} on average.`);
  }
  section.append(h("p", {}, sentence.join(" ")));
  // A simple line of the weekly means, 0 to 10; its words are above, so the chart is decoration for a screen reader.
  const width = 320;
  const height = 120;
  const shown = points.slice(-26);
  const x = (i: number) => (shown.length === 1 ? width / 2 : 10 + (i * (width - 20)) / (shown.length - 1));
  const y = (v: number) => 10 + ((10 - v) * (height - 20)) / 10;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("aria-hidden", "true");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", shown.map((p, i) => `${x(i)},${y(p.value)}`).join(" "));
  line.setAttribute("class", "line");
  svg.append(line);
  section.append(svg);
  return section;
}

export async function checkIn(session: DeviceSession, signOut: () => void): Promise<void> {
  const state = { serious: false };
  let first = true;
  const render = async () => {
    const [due, instruments, trend, items] = await Promise.all([
      cached<Due>(`due.${session.patientId}`, async () =>
        (await api.GET("/api/v1/patients/{patientId}/due", { params: { path: { patientId: session.patientId } } })).data),
      cached<Instrument[]>("instruments", async () => (await api.GET("/api/v1/instruments", {})).data),
      cached<Trend>(`trend.${session.patientId}`, async () =>
        (await api.GET("/api/v1/patients/{patientId}/trend", { params: { path: { patientId: session.patientId }, query: { measure: "pain_nrs" } } })).data),
      queued(),
    ]);
    const dueItems = due?.items ?? [];
    const latest = (code: string) => (instruments ?? []).filter((i) => i.code === code).at(-1);
    const questionnaires = dueItems.filter((d) => d.kind === "questionnaire").map((d) => latest(d.instrument)).filter((i): i is Instrument => !!i);
    // The clinic's licensed wording, where an admin added it (a 404 until then); kept for offline use.
    const wordings = await Promise.all(questionnaires.map((q) => cached<Wording>(`wording.${q.code}.${q.version}`, async () =>
      (await api.GET("/api/v1/instruments/{code}/{version}/wording", { params: { path: { code: q.code, version: q.version } } })).data)));
    const rerender = () => void render().then(() => void flush(() => void render()).catch(() => undefined));
    paint(first,
      h("h1", {}, "Your check-in"),
      h("section", { class: "card", "aria-labelledby": "due-heading" },
        h("h2", { id: "due-heading" }, "Due now"),
        dueItems.length === 0
          ? h("p", {}, "Nothing is due. Thank you.")
          : h("ul", {}, ...dueItems.map((d) => h("li", {}, d.kind === "painScore" ? "Your weekly pain score" : (latest(d.instrument)?.name ?? words(d.instrument)))))),
      painForm(session, rerender),
      ...questionnaires.map((q, i) => questionnaireForm(session, q, wordings[i], rerender)),
      queueList(items),
      sideEffectForm(session, state, rerender),
      trendView(trend),
      h("p", { class: "fine" }, `This phone is paired as “${session.deviceName}”. `,
        h("button", { type: "button", class: "link", onclick: () => signOut() }, "Unpair this phone")),
    );
    first = false;
  };
  await render();
  void flush(() => void render()).catch(() => undefined);
}
