// The patient's check-in in a real browser: paired by code; a pain score and a questionnaire submitted offline,
// then online: exactly one row each; a serious side effect tells the patient what to do; a revoked device is told so.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { admin, assertAccessible, launch, screenshot, seedPatient, BASE, PHONE, NARROW, DESKTOP } from "./harness.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function pairedPage(viewport, reference) {
  const { patientId } = await seedPatient(reference);
  const pairing = await admin("POST", `/api/v1/patients/${patientId}/pairing-codes`);
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.log(`page error: ${error.message}`));
  await page.goto(`${BASE}/app/#/pair?code=${encodeURIComponent(pairing.code)}`);
  await page.getByRole("heading", { name: "Pair this phone" }).waitFor();
  return { context, page, patientId, pairing };
}

// How fast it loads is measured, and printed, not asserted: a timed test fails on a slow machine (bench/README.md has the figure).
test("the check-in loads, and its script stays small", async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  const started = Date.now();
  await page.goto(`${BASE}/app/`);
  await page.getByRole("heading", { name: "Pair this phone" }).waitFor();
  const elapsed = Date.now() - started;
  const scripts = await page.evaluate(() => performance.getEntriesByType("resource").filter((r) => r.initiatorType === "script")
    .reduce((sum, r) => sum + r.encodedBodySize, 0));
  console.log(`check-in ready in ${elapsed} ms; script ${scripts} bytes as sent`);
  assert.ok(scripts < 60_000, `script ${scripts} bytes`);
  await context.close();
});

test("a phone pairs by code, checks in offline, and what it sent arrives exactly once", async () => {
  // The clinic has added its licensed wording of the NDI's first item; the others show their codes.
  await admin("PUT", "/api/v1/instruments/ndi/1/wording", { items: { ndi_01: "Pain intensity (the clinic's licensed wording)" } });
  const { context, page, patientId } = await pairedPage(PHONE, `BROWSER-${Date.now()}`);
  await assertAccessible(page, "pair");
  await screenshot(page, "pair-phone");
  await page.getByLabel("A name for this phone").fill("Test phone");
  await page.getByRole("button", { name: "Pair this phone" }).click();
  await page.getByRole("heading", { name: "Your check-in" }).waitFor();
  await page.getByRole("heading", { name: "Neck Disability Index" }).waitFor();
  await page.getByRole("group", { name: "Pain intensity (the clinic's licensed wording)" }).waitFor();
  await page.getByRole("group", { name: "Item 2 (ndi_02)" }).waitFor();
  await assertAccessible(page, "check-in");
  await screenshot(page, "checkin-phone");

  // The service worker takes the page over; from then on the shell opens without a connection.
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  await page.reload();
  await page.getByRole("heading", { name: "Your check-in" }).waitFor();
  await context.setOffline(true);
  await page.reload();
  await page.getByRole("heading", { name: "Your check-in" }).waitFor();
  await page.getByText("Offline:").waitFor();

  await page.locator("form", { has: page.getByRole("heading", { name: "Weekly pain score" }) }).getByText("6", { exact: true }).click();
  await page.getByRole("button", { name: "Send my pain score" }).click();
  await page.getByText("1 waiting to be sent").waitFor();
  const ndi = page.locator("form", { has: page.getByRole("heading", { name: "Neck Disability Index" }) });
  for (const fieldset of await ndi.locator("fieldset").all()) {
    await fieldset.getByText("2", { exact: true }).click();
  }
  await page.getByRole("button", { name: "Send Neck Disability Index" }).click();
  await page.getByText("2 waiting to be sent").waitFor();
  await assertAccessible(page, "check-in offline");
  await screenshot(page, "checkin-offline-phone");

  // The connection drops and comes back twice before the queue is sent: each record still arrives once.
  await context.setOffline(false);
  await context.setOffline(true);
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event("online")));
  await page.getByText("Nothing is waiting to be sent.").waitFor({ timeout: 15_000 });
  await page.getByText("Pain score 6: arrived").waitFor();
  await screenshot(page, "checkin-sent-phone");

  const observations = await admin("GET", `/api/v1/patients/${patientId}/observations`);
  const pain = observations.items.filter((o) => o.kind === "painScore");
  const ndiRows = observations.items.filter((o) => o.kind === "questionnaire" && o.code === "ndi");
  assert.equal(pain.length, 1);
  assert.equal(pain[0].value, 6);
  assert.equal(ndiRows.length, 1);
  assert.equal(ndiRows[0].value, 40); // ten items of 2 of 5: 20 / 50
  // Visible on the practitioner's trend.
  const trend = await admin("GET", `/api/v1/patients/${patientId}/trend?measure=pain_nrs`);
  assert.equal(trend.series.at(-1).value, 6);
  await context.close();
});

test("a serious side effect tells the patient to contact the clinic now, and what to do in an emergency", async () => {
  const { context, page } = await pairedPage(NARROW, `SERIOUS-${Date.now()}`);
  await page.getByRole("button", { name: "Pair this phone" }).click();
  await page.getByRole("heading", { name: "Your check-in" }).waitFor();
  await page.getByLabel("What happened").selectOption("difficultySwallowing");
  await page.getByLabel("How bad is it").selectOption("moderate");
  await page.getByLabel("When did it start").fill(new Date().toISOString().slice(0, 10));
  await page.getByRole("button", { name: "Send the report" }).click();
  const alert = page.getByRole("alert").filter({ hasText: "Contact the clinic now" });
  await alert.waitFor();
  assert.match(await alert.innerText(), /emergency services/);
  await assertAccessible(page, "serious side effect");
  await screenshot(page, "serious-side-effect-320");
  // Nothing is wider than the 320-pixel screen.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 320), "horizontal scrolling at 320 px");
  await context.close();
});

test("a revoked device is refused, and says so to the patient; the pain score goes by keyboard alone", async () => {
  const { context, page, patientId } = await pairedPage(DESKTOP, `REVOKED-${Date.now()}`);
  await screenshot(page, "pair-desktop");
  await page.getByRole("button", { name: "Pair this phone" }).click();
  await page.getByRole("heading", { name: "Your check-in" }).waitFor();
  await screenshot(page, "checkin-desktop");

  // Keyboard only: Tab to the pain scale, arrows to 3, Tab to the button, Enter.
  for (let i = 0; i < 40 && !(await page.evaluate(() => document.activeElement?.getAttribute("name") === "score")); i++) {
    await page.keyboard.press("Tab");
  }
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("name")), "score", "the pain scale is reachable by Tab");
  for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowRight");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Send my pain score");
  await page.keyboard.press("Enter");
  await page.getByText("Pain score 3: arrived").waitFor();
  const devices = await admin("GET", `/api/v1/patients/${patientId}/devices`);
  await admin("POST", `/api/v1/patients/${patientId}/devices/${devices[0].id}/revocation`, { reason: "Phone lost" });

  await page.reload();
  await page.getByRole("heading", { name: "This phone is no longer paired" }).waitFor();
  await assertAccessible(page, "unpaired");
  await screenshot(page, "unpaired-desktop");
  await page.setViewportSize(PHONE);
  await screenshot(page, "unpaired-phone");
  await context.close();
});
