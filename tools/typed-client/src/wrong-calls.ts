// Calls the service would refuse. Each must fail to compile: `@ts-expect-error` makes the type
// check fail if a line below it compiles, so a contract that loosens (a nullable required member,
// a number that may be a string, an enum that may be null, a parameter under another name) breaks CI.
import type { outcomesClient } from "./client";

export async function wrongCalls(api: ReturnType<typeof outcomesClient>, patientId: number) {
  const path = { patientId };
  const ok = { submissionId: "0b6f5d2c-8e3a-4c71-a9f4-2d7e1b3c5a60", answeredAt: "2025-03-10T19:30:00+01:00", score: 4, recall: "average7Days" } as const;

  // A score that is not a number.
  // @ts-expect-error score is an integer
  await api.POST("/api/v1/patients/{patientId}/pain-scores", { params: { path }, body: { ...ok, score: "eleven" } });

  // A required member as null.
  // @ts-expect-error submissionId is required and not null
  await api.POST("/api/v1/patients/{patientId}/pain-scores", { params: { path }, body: { ...ok, submissionId: null } });

  // A required member left out.
  // @ts-expect-error answeredAt is required
  await api.POST("/api/v1/patients/{patientId}/pain-scores", { params: { path }, body: { submissionId: ok.submissionId, score: 4, recall: "current" } });

  // An enum member that does not exist, and null for an enum.
  // @ts-expect-error recall is one of its codes
  await api.POST("/api/v1/patients/{patientId}/pain-scores", { params: { path }, body: { ...ok, recall: "yesterday" } });
  // @ts-expect-error recall is not null
  await api.POST("/api/v1/patients/{patientId}/pain-scores", { params: { path }, body: { ...ok, recall: null } });

  // A member the request does not have.
  await api.POST("/api/v1/patients/{patientId}/pain-scores", {
    params: { path },
    // @ts-expect-error painLocation is not a member
    body: { submissionId: ok.submissionId, answeredAt: ok.answeredAt, score: 4, recall: "current", painLocation: "neck" },
  });

  // A query parameter under the framework's name instead of the documented one.
  // @ts-expect-error the parameter is siteId
  await api.GET("/api/v1/patients", { params: { query: { SiteId: 1 } } });

  // A page size as a string.
  // @ts-expect-error limit is an integer
  await api.GET("/api/v1/patients", { params: { query: { limit: "50" } } });

  // A cohort filter outside its codes.
  // @ts-expect-error guidance is palpation, emg or ultrasound
  await api.GET("/api/v1/cohorts/outcomes", { params: { query: { guidance: "laser" } } });

  // A grouping that does not exist.
  // @ts-expect-error by is one of the groupings
  await api.GET("/api/v1/cohorts/compare", { params: { query: { by: "colour" } } });

  // A path without its patient.
  // @ts-expect-error patientId is required in the path
  await api.GET("/api/v1/patients/{patientId}/trend", { params: { query: { measure: "ndi" } } });

  // An operation that does not exist.
  // @ts-expect-error there is no DELETE of a patient: clinical data is never deleted
  await api.DELETE("/api/v1/patients/{patientId}", { params: { path } });

  // A correction without its reason.
  await api.POST("/api/v1/patients/{patientId}/treatment-sessions/{sessionId}/amendments", {
    params: { path: { patientId, sessionId: 1 } },
    // @ts-expect-error reason is required
    body: {
      submissionId: ok.submissionId, sessionDate: "2025-03-03", practitionerId: 1, product: "onabotulinumtoxinA", guidance: "emg",
      dilutionUnitsPerMl: 50, injectionSites: [{ muscle: "upper_trapezius", side: "left", units: 10 }],
    },
  });

  // A session's product as a number, and an injection site without units.
  await api.POST("/api/v1/patients/{patientId}/treatment-sessions", {
    params: { path },
    body: {
      submissionId: ok.submissionId, sessionDate: "2025-03-03", practitionerId: 1,
      // @ts-expect-error product is a code
      product: 1,
      guidance: "emg", dilutionUnitsPerMl: 50,
      // @ts-expect-error units is required
      injectionSites: [{ muscle: "upper_trapezius", side: "left" }],
    },
  });

  // The alert feed's kinds are alert kinds, not observation kinds; a webhook names its kinds.
  // @ts-expect-error painScore is an observation kind
  await api.GET("/api/v1/alerts", { params: { query: { kind: "painScore" } } });
  await api.POST("/api/v1/sites/{siteId}/webhooks", {
    params: { path: { siteId: 1 } },
    // @ts-expect-error kinds is required
    body: { url: "https://pager.example.org/outcomes" },
  });

  // A pairing code is made for a patient; the token endpoint needs its grant type.
  // @ts-expect-error patientId is required
  await api.POST("/api/v1/patients/{patientId}/pairing-codes", { params: { path: {} } });
  // @ts-expect-error grant_type is required
  await api.POST("/api/v1/oauth/token", { body: { code: "7KQ4-M2XD" } });
}
