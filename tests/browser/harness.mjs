// What every browser test shares: Debian's chromium (never a downloaded browser), the service's address and an
// admin token (from BrowserTests), API calls for seeding, axe-core checks and screenshots at phone and desktop width.
import { readFile, mkdir } from "node:fs/promises";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

export const BASE = process.env.OUTCOMES_BASE_URL ?? "http://127.0.0.1:5293";
export const ARTIFACTS = process.env.OUTCOMES_ARTIFACTS ?? new URL("./artifacts/", import.meta.url).pathname;
const ADMIN = process.env.OUTCOMES_ADMIN_TOKEN;

export const PHONE = { width: 390, height: 844 };
export const NARROW = { width: 320, height: 640 };
export const DESKTOP = { width: 1280, height: 900 };

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** An API call as the admin the test was given; the parsed body. */
export async function admin(method, path, body) {
  const response = await fetch(BASE + path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** A site, a practitioner and a patient treated for neck pain (so that the NDI is due at baseline). */
export async function seedPatient(reference, enrolledOn = new Date().toISOString().slice(0, 10)) {
  const site = await admin("POST", "/api/v1/sites", { name: `Browser site ${reference}` });
  const practitioner = await admin("POST", "/api/v1/practitioners", { siteId: site.id, displayName: "Dr Browser" });
  const patient = await admin("POST", "/api/v1/patients", {
    externalReference: reference, siteId: site.id, birthYear: 1975, sex: "female",
    enrolledOn, conditions: ["neckShoulderPain"],
  });
  return { siteId: site.id, practitionerId: practitioner.id, patientId: patient.id };
}

const axeSource = readFile(new URL("./node_modules/axe-core/axe.min.js", import.meta.url), "utf8");

/** axe-core on the page as it is: no serious or critical violation. */
export async function assertAccessible(page, name) {
  // Evaluated through the DevTools protocol, so the page's Content-Security-Policy (no inline scripts) stays as served.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(await axeSource);
  const results = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`), [], `axe on ${name}`);
}

export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
}
