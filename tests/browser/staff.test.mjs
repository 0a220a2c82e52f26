// The practitioner's side in a real browser: sign-in at a real OpenID provider (authorization code with PKCE), the
// service validating that provider's tokens, the patient list, a patient's page, a session recorded and seen on the chart.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { admin, assertAccessible, launch, screenshot, seedPatient, BASE, DESKTOP, PHONE } from "./harness.mjs";
import { startProvider } from "./oidc.mjs";

const accounts = {};
let browser;
let provider;
before(async () => {
  provider = await startProvider(Number(process.env.OUTCOMES_OIDC_PORT), `${BASE}/app/`, accounts);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await provider?.close();
});

async function signIn(page, account, heading = "Patients") {
  await page.goto(`${BASE}/app/#/staff`);
  await page.getByRole("button", { name: "Sign in" }).click();
  // The provider's own login page (oidc-provider's development interactions).
  await page.locator("input[name=login]").fill(account);
  await page.locator("input[name=password]").fill("any");
  await page.locator("button[type=submit]").click();
  // Back at the client: its first page after sign-in, whatever it is (a failure names itself in the assertion below).
  await page.waitForURL(/\/app\/#\/staff/);
  await page.locator("h1").first().waitFor();
  const shown = await page.locator("h1").first().innerText();
  assert.equal(shown, heading, `after sign-in: ${shown}: ${await page.locator("main").innerText()}`);
}

test("a practitioner signs in, records a session and sees it on the chart", async () => {
  const { siteId, practitionerId, patientId } = await seedPatient(`STAFF-${Date.now()}`, "2025-01-15");
  accounts["dr-example"] = { role: "practitioner", site_id: String(siteId), practitioner_id: String(practitionerId) };
  for (const [day, score] of [["2025-03-03", 7], ["2025-03-10", 7], ["2025-03-17", 6]]) {
    await admin("POST", `/api/v1/patients/${patientId}/pain-scores`, { submissionId: crypto.randomUUID(), answeredAt: `${day}T09:00:00Z`, score, recall: "average7Days" });
  }

  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.log(`page error: ${error.message}`));
  page.on("console", (message) => message.type() === "error" && console.log(`console: ${message.text()}`));
  await signIn(page, "dr-example");
  await page.getByRole("heading", { name: "Patients" }).waitFor();
  await assertAccessible(page, "patient list");
  await screenshot(page, "staff-patients-desktop");
  await page.setViewportSize(PHONE);
  await assertAccessible(page, "patient list, phone");
  await screenshot(page, "staff-patients-phone");
  await page.setViewportSize(DESKTOP);

  await page.getByRole("link", { name: /^STAFF-/ }).click();
  await page.getByRole("heading", { name: /^Patient STAFF-/ }).waitFor();
  assert.equal(await page.locator("svg.chart line.session").count(), 0);
  await page.getByLabel("Session date").fill("2025-03-18");
  await page.getByLabel("Guidance").selectOption("ultrasound");
  await page.getByRole("button", { name: "Record the session" }).click();
  await page.locator("svg.chart line.session").first().waitFor({ state: "attached" }); // a vertical line has no width to be "visible"
  assert.equal(await page.locator("svg.chart line.session").count(), 1);
  await page.getByText("2025-03-18: OnabotulinumtoxinA (Botox)").waitFor();
  await assertAccessible(page, "patient page");
  await screenshot(page, "staff-patient-desktop");

  // Recorded as the signed-in practitioner, through the same API and policies as any token.
  const sessions = await admin("GET", `/api/v1/patients/${patientId}/treatment-sessions`);
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0].practitionerId, practitionerId);
  assert.equal(sessions[0].guidance, "ultrasound");

  // A dose above the product's plausibility ceiling is refused until it is confirmed with a reason.
  await page.getByLabel("Session date").fill("2025-03-25");
  await page.getByRole("spinbutton", { name: "Units", exact: true }).fill("300");
  await page.getByRole("button", { name: "Record the session" }).click();
  await page.getByRole("alert").filter({ hasText: "confirm it with highDoseConfirmed" }).waitFor();
  await page.getByLabel("I confirm this dose").check();
  await page.getByLabel("Why this dose is right").fill("Documented tolerance; plan agreed with the patient");
  await page.getByRole("button", { name: "Record the session" }).click();
  await page.getByText("2025-03-25: OnabotulinumtoxinA (Botox), 300 units").waitFor();
  assert.equal((await admin("GET", `/api/v1/patients/${patientId}/treatment-sessions`)).length, 2);
  const highDose = page.locator(".sessions li").filter({ hasText: "2025-03-25" });
  await highDose.getByRole("button", { name: "History" }).click();
  await highDose.getByText(/high dose: Documented tolerance/).waitFor();

  // Range of motion, then a record's history, and a record withdrawn as entered in error (a new version, not a deletion).
  await page.getByLabel("Movement").selectOption("cervical_rotation_left");
  await page.getByLabel("Degrees").fill("62.5");
  await page.getByRole("button", { name: "Record range of motion" }).click();
  const romRecord = page.locator(".records li").filter({ hasText: "Cervical rotation left 62.5 deg" });
  await romRecord.waitFor();
  await romRecord.getByRole("button", { name: "History" }).click();
  await romRecord.getByText(/current, recorded .* by the practitioner/).waitFor();
  // The value corrected: a new version, the old one kept in the history with the reason.
  await romRecord.getByText("Correct", { exact: true }).click();
  await romRecord.getByLabel("Corrected value").fill("64");
  await romRecord.getByLabel("Why it is corrected").fill("Read the goniometer again");
  await romRecord.getByRole("button", { name: "Correct the value" }).click();
  const corrected = page.locator(".records li").filter({ hasText: "Cervical rotation left 64 deg" });
  await corrected.waitFor();
  await corrected.getByRole("button", { name: "History" }).click();
  await corrected.getByText(/reason: Read the goniometer again/).waitFor();
  const painRecord = page.locator(".records li").filter({ hasText: "Pain score 7" }).first();
  await painRecord.getByText("Correct", { exact: true }).click();
  await painRecord.getByLabel("Reason it was entered in error").fill("Scored for the wrong patient");
  await painRecord.getByRole("button", { name: "Mark entered in error" }).click();
  await page.getByRole("heading", { name: "Recent records" }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll(".records li").length === 3);
  const observations = await admin("GET", `/api/v1/patients/${patientId}/observations`);
  assert.equal(observations.items.filter((o) => o.kind === "painScore").length, 2);

  // A phone paired through the API shows in the device list, and the practitioner unpairs it.
  const code = (await admin("POST", `/api/v1/patients/${patientId}/pairing-codes`)).code;
  const tokens = await fetch(`${BASE}/api/v1/oauth/token`, {
    method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "urn:outcomes:oauth:grant-type:pairing-code", code, device_name: "Anna's phone" }),
  });
  assert.equal(tokens.status, 200);
  await page.reload();
  await page.getByRole("button", { name: "Unpair Anna's phone" }).click();
  await page.getByText(/Anna's phone, paired .* \(unpaired .*: Unpaired by the clinic\)/).waitFor();
  await assertAccessible(page, "patient page after corrections");
  await screenshot(page, "staff-patient-records-desktop");

  // A pairing code with its QR code, on a phone-sized screen.
  await page.setViewportSize(PHONE);
  await page.getByRole("button", { name: "Make a pairing code" }).click();
  await page.getByRole("img", { name: /QR code of the pairing link/ }).waitFor();
  await assertAccessible(page, "patient page with a pairing code");
  await screenshot(page, "staff-patient-phone");
  await context.close();
});

test("a practitioner of another site sees none of these patients, and signs out", async () => {
  const other = await admin("POST", "/api/v1/sites", { name: `Elsewhere ${Date.now()}` });
  const practitioner = await admin("POST", "/api/v1/practitioners", { siteId: other.id, displayName: "Dr Elsewhere" });
  accounts["dr-elsewhere"] = { role: "practitioner", site_id: String(other.id), practitioner_id: String(practitioner.id) };
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  await signIn(page, "dr-elsewhere");
  await page.getByRole("heading", { name: "Patients" }).waitFor();
  await page.getByText("0 patients").waitFor();
  // Sign-out ends the session at the provider too (RP-initiated logout), and comes back to the sign-in page.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.locator("button[autofocus], button[type=submit]").first().click(); // the provider asks to confirm
  await page.getByRole("heading", { name: "Clinic staff" }).waitFor();
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("input[name=login]").waitFor(); // signed out at the provider: it asks again
  await context.close();
});

test("an auditor signs in and sees a cohort whose small cells are shown as withheld, never as zero", async () => {
  accounts["auditor-a"] = { role: "auditor" };
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  await signIn(page, "auditor-a", "Cohort outcomes");
  await page.getByRole("heading", { name: "Outcomes at week 12" }).waitFor();
  // The clinic of these tests has a handful of patients: every count and rate is below the threshold of 10.
  const rates = page.getByRole("table", { name: /Rates of the cycles/ });
  await rates.waitFor();
  assert.ok(await rates.getByText(/^Withheld/).count() >= 1, "a withheld rate is said to be withheld");
  assert.equal(await rates.getByText("0.0%").count(), 0, "a withheld rate is not shown as zero");
  await page.getByText(/^Patients: Withheld/).waitFor();
  await page.getByLabel("Compare by").selectOption("product");
  await page.getByRole("button", { name: "Show the cohort" }).click();
  await page.getByRole("heading", { name: "By product" }).waitFor();
  await assertAccessible(page, "auditor dashboard");
  await screenshot(page, "auditor-desktop");
  await page.setViewportSize(PHONE);
  await assertAccessible(page, "auditor dashboard, phone");
  await screenshot(page, "auditor-phone");
  await context.close();
});
