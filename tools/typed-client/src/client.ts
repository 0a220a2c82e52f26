// A client that calls every operation of the committed contract, typed by openapi-fetch from the
// types openapi-typescript generates (src/outcomes.d.ts). It is type-checked, not run: it compiles
// only while the contract describes every call it makes.
import createClient from "openapi-fetch";
import type { paths, components } from "./outcomes";

type Schemas = components["schemas"];

export function outcomesClient(baseUrl: string, token: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
}

export async function everyOperation(api: ReturnType<typeof outcomesClient>, patientId: number) {
  const path = { patientId };

  await api.GET("/health/live");
  await api.GET("/health/ready");
  await api.GET("/api/v1/catalogue/muscles");
  await api.GET("/api/v1/catalogue/movements");

  const site = await api.POST("/api/v1/sites", { body: { name: "Northside Pain Clinic" } });
  const siteId: number = site.data?.id ?? 0;
  await api.GET("/api/v1/sites");
  await api.GET("/api/v1/sites/{siteId}", { params: { path: { siteId } } });

  const practitioner = await api.POST("/api/v1/practitioners", { body: { siteId, displayName: "Dr A. Example" } });
  const practitionerId: number = practitioner.data?.id ?? 0;
  await api.GET("/api/v1/practitioners", { params: { query: { siteId } } });
  await api.GET("/api/v1/practitioners/{practitionerId}", { params: { path: { practitionerId } } });

  const patient: Schemas["CreatePatientRequest"] = {
    externalReference: "MRN-000123", siteId, birthYear: 1972, sex: "female", enrolledOn: "2025-01-15", conditions: ["neckShoulderPain"],
  };
  await api.POST("/api/v1/patients", { body: patient });
  const page = await api.GET("/api/v1/patients", { params: { query: { siteId, condition: "lowBackPain", limit: 50 } } });
  const next: string | null | undefined = page.data?.nextCursor;
  await api.GET("/api/v1/patients", { params: { query: { ...(next ? { cursor: next } : {}) } } });
  await api.GET("/api/v1/patients/summaries", { params: { query: { seriousSideEffects: true } } });
  await api.GET("/api/v1/patients/{patientId}", { params: { path } });
  await api.GET("/api/v1/patients/{patientId}/due", { params: { path } });
  const me = await api.GET("/api/v1/patients/{patientId}", { params: { path } });
  await api.POST("/api/v1/patients/{patientId}/corrections", {
    params: { path },
    body: {
      submissionId: crypto.randomUUID(), version: me.data?.version ?? 0, externalReference: "MRN-000123", birthYear: 1971,
      sex: "female", enrolledOn: "2025-01-15", conditions: ["neckShoulderPain"], reason: "Birth year copied wrongly",
    },
  });
  await api.GET("/api/v1/patients/{patientId}/history", { params: { path } });
  await api.GET("/api/v1/patients/{patientId}/access-log", { params: { path, query: { limit: 20 } } });

  await api.POST("/api/v1/patients/{patientId}/treatment-sessions", {
    params: { path },
    body: {
      submissionId: crypto.randomUUID(), sessionDate: "2025-03-03", practitionerId, product: "onabotulinumtoxinA", guidance: "emg",
      dilutionUnitsPerMl: 50, injectionSites: [{ muscle: "upper_trapezius", side: "left", units: 20 }],
    },
  });
  await api.GET("/api/v1/patients/{patientId}/treatment-sessions", { params: { path } });
  await api.GET("/api/v1/patients/{patientId}/treatment-sessions/{sessionId}", { params: { path: { patientId, sessionId: 1 } } });
  const corrected = await api.POST("/api/v1/patients/{patientId}/treatment-sessions/{sessionId}/amendments", {
    params: { path: { patientId, sessionId: 1 } },
    body: {
      submissionId: crypto.randomUUID(), sessionDate: "2025-03-02", practitionerId, product: "onabotulinumtoxinA", guidance: "emg",
      dilutionUnitsPerMl: 50, injectionSites: [{ muscle: "upper_trapezius", side: "left", units: 15 }], reason: "Date and dose typed wrong",
    },
  });
  const status: string | undefined = corrected.data?.status;
  await api.POST("/api/v1/patients/{patientId}/treatment-sessions/{sessionId}/entered-in-error", {
    params: { path: { patientId, sessionId: corrected.data?.id ?? 0 } },
    body: { submissionId: crypto.randomUUID(), reason: `Recorded for the wrong patient (${status})` },
  });
  await api.GET("/api/v1/patients/{patientId}/treatment-sessions/{sessionId}/history", { params: { path: { patientId, sessionId: 1 } } });
  await api.POST("/api/v1/patients/{patientId}/treatment-sessions", {
    params: { path },
    body: {
      submissionId: crypto.randomUUID(), sessionDate: "2025-06-03", practitionerId, product: "abobotulinumtoxinA", guidance: "ultrasound",
      dilutionUnitsPerMl: 200, injectionSites: [{ muscle: "upper_trapezius", side: "right", units: 600 }],
      highDoseConfirmed: true, highDoseReason: "Agreed with the consultant",
    },
  });

  await api.GET("/api/v1/instruments");
  await api.GET("/api/v1/instruments/{code}/{version}", { params: { path: { code: "ndi", version: "1" } } });
  const ndi = await api.GET("/api/v1/instruments/{code}/{version}", { params: { path: { code: "ndi", version: "1" } } });
  if (ndi.data) {
    await api.POST("/api/v1/instruments", { body: { ...ndi.data, version: "2" } });
  }

  const pain = await api.POST("/api/v1/patients/{patientId}/pain-scores", {
    params: { path },
    body: { submissionId: crypto.randomUUID(), answeredAt: "2025-03-10T19:30:00+01:00", score: 4, recall: "average7Days" },
  });
  const observationId: number = pain.data?.id ?? 0;
  await api.POST("/api/v1/patients/{patientId}/questionnaire-responses", {
    params: { path },
    body: {
      submissionId: crypto.randomUUID(), answeredAt: "2025-03-10T19:35:00+01:00", instrument: "pgic", version: "1",
      answers: [{ item: "change", option: "much_improved" }],
    },
  });
  await api.POST("/api/v1/patients/{patientId}/range-of-motion", {
    params: { path },
    body: { submissionId: crypto.randomUUID(), answeredAt: "2025-03-10T10:15:00+01:00", movement: "cervical_rotation_left", degrees: 62.5, method: "goniometer" },
  });
  await api.POST("/api/v1/patients/{patientId}/pressure-pain-thresholds", {
    params: { path },
    body: { submissionId: crypto.randomUUID(), answeredAt: "2025-03-10T10:20:00+01:00", muscle: "upper_trapezius", side: "left", kgPerCm2: 2.4 },
  });
  await api.POST("/api/v1/patients/{patientId}/side-effects", {
    params: { path },
    body: { submissionId: crypto.randomUUID(), answeredAt: "2025-03-05T08:00:00+01:00", effect: "other", severity: "mild", onsetOn: "2025-03-04", note: "itching" },
  });
  await api.GET("/api/v1/patients/{patientId}/observations", { params: { path, query: { kind: "painScore", limit: 100 } } });
  await api.GET("/api/v1/patients/{patientId}/observations/{observationId}", { params: { path: { patientId, observationId } } });
  await api.GET("/api/v1/patients/{patientId}/observations/{observationId}/history", { params: { path: { patientId, observationId } } });
  await api.POST("/api/v1/patients/{patientId}/observations/{observationId}/entered-in-error", {
    params: { path: { patientId, observationId } },
    body: { submissionId: crypto.randomUUID(), reason: "Entered for the wrong patient" },
  });
  await api.POST("/api/v1/patients/{patientId}/observations/{observationId}/withdrawal-review", {
    params: { path: { patientId, observationId } },
    body: { note: "Called the patient" },
  });
  await api.POST("/api/v1/imports/observations", {
    body: '{"type":"painScore","patientId":1}\n' as never,
    bodySerializer: (text: string) => text,
    headers: { "Content-Type": "application/x-ndjson" },
  });

  const trend = await api.GET("/api/v1/patients/{patientId}/trend", { params: { path, query: { measure: "ndi" } } });
  const slopes: number[] = (trend.data?.cycles ?? []).map((c) => c.slopePerWeek ?? 0);
  await api.GET("/api/v1/patients/{patientId}/trend.png", { params: { path, query: { measure: "pain_nrs" } }, parseAs: "blob" });
  await api.GET("/api/v1/patients/{patientId}/trend.svg", { params: { path }, parseAs: "text" });
  await api.GET("/api/v1/patients/{patientId}/outcomes", { params: { path } });
  await api.GET("/api/v1/patients/{patientId}/outcomes", { params: { path, query: { measure: "pain_nrs", cycles: 2 } } });

  const cohort = { condition: "neckShoulderPain", product: "onabotulinumtoxinA", minUnits: 50, week: 12 } as const;
  await api.GET("/api/v1/cohorts/outcomes", { params: { query: cohort } });
  await api.GET("/api/v1/cohorts/compare", { params: { query: { ...cohort, by: "doseBand", a: "50-99", b: "100-199", responder: "relief50" } } });
  await api.GET("/api/v1/cohorts/duration", { params: { query: { cycle: "first" } } });
  await api.GET("/api/v1/cohorts/over-time", { params: { query: { guidance: "ultrasound" } } });
  await api.GET("/api/v1/cohorts/export.csv", { params: { query: { salt: "a-salt-of-sixteen+" } }, parseAs: "text" });
  await api.GET("/api/v1/audit-events", { params: { query: { from: "2025-03-01T00:00:00Z", patientId, action: "read" } } });

  const alerts = await api.GET("/api/v1/alerts", { params: { query: { status: "open", kind: "seriousSideEffect", patientId, limit: 20 } } });
  const alertId: number = alerts.data?.items[0]?.id ?? 1;
  const kinds: string[] = (alerts.data?.items ?? []).map((a) => a.kind);
  await api.POST("/api/v1/alerts/{alertId}/acknowledgement", { params: { path: { alertId } }, body: { note: "Phoned the patient" } });
  await api.GET("/api/v1/sites/{siteId}/alert-settings", { params: { path: { siteId } } });
  await api.PUT("/api/v1/sites/{siteId}/alert-settings", { params: { path: { siteId } }, body: { noWeeklyScoreWeeks: 3 } });
  const webhook = await api.POST("/api/v1/sites/{siteId}/webhooks", {
    params: { path: { siteId } },
    body: { url: "https://pager.example.org/outcomes", kinds: ["seriousSideEffect", "responseLost"] },
  });
  const secret: string = webhook.data?.secret ?? "";
  const webhookId: number = webhook.data?.id ?? 1;
  await api.GET("/api/v1/sites/{siteId}/webhooks", { params: { path: { siteId } } });
  const deliveries = await api.GET("/api/v1/sites/{siteId}/webhooks/{webhookId}/deliveries", {
    params: { path: { siteId, webhookId }, query: { status: "failed" } },
  });
  const deliveryId: number = deliveries.data?.items[0]?.id ?? 1;
  await api.POST("/api/v1/sites/{siteId}/webhooks/{webhookId}/deliveries/{deliveryId}/redelivery", {
    params: { path: { siteId, webhookId, deliveryId } },
  });
  await api.DELETE("/api/v1/sites/{siteId}/webhooks/{webhookId}", { params: { path: { siteId, webhookId } } });

  // A patient's phone, paired by a one-time code; the OAuth endpoints take forms.
  const form = (body: unknown) => new URLSearchParams(body as Record<string, string>);
  const pairing = await api.POST("/api/v1/patients/{patientId}/pairing-codes", { params: { path: { patientId } } });
  const code: string = pairing.data?.code ?? "";
  const qr: string = pairing.data?.qrCodeSvg ?? "";
  const tokens = await api.POST("/api/v1/oauth/token", {
    body: { grant_type: "urn:outcomes:oauth:grant-type:pairing-code", code, device_name: "Phone" },
    bodySerializer: form,
  });
  const refresh: string = tokens.data?.refresh_token ?? "";
  const devices = await api.GET("/api/v1/patients/{patientId}/devices", { params: { path: { patientId } } });
  const deviceId: number = devices.data?.[0]?.id ?? 1;
  await api.POST("/api/v1/patients/{patientId}/devices/{deviceId}/revocation", {
    params: { path: { patientId, deviceId } },
    body: { reason: "Phone lost" },
  });
  await api.POST("/api/v1/oauth/revoke", { body: { token: refresh }, bodySerializer: form });
  void qr;

  // The clinic's licensed wording of an instrument version.
  await api.PUT("/api/v1/instruments/{code}/{version}/wording", {
    params: { path: { code: "ndi", version: "1" } },
    body: { title: "About your neck", items: { ndi_01: "The licensed wording of item 1" } },
  });
  const wording = await api.GET("/api/v1/instruments/{code}/{version}/wording", { params: { path: { code: "ndi", version: "1" } } });
  const firstItem: string | undefined = wording.data?.items["ndi_01"];
  void firstItem;
  void kinds;
  void secret;

  return slopes;
}
