// The staff side, loaded only when a member of staff opens it (the patient's check-in does not carry it).
import { h, show } from "../dom";
import { currentStaff, userManager } from "./auth";
import { auditorDashboard } from "./auditor";
import { patientList, patientPage } from "./practitioner";

/** Completes a sign-in the provider has redirected back from; true when there was one. */
export async function completeSignIn(): Promise<boolean> {
  const params = new URLSearchParams(location.search);
  if (params.has("error")) {
    history.replaceState(null, "", `${location.pathname}#/staff`);
    show(h("h1", {}, "Sign-in did not succeed"), h("p", { role: "alert" }, params.get("error_description") ?? params.get("error") ?? ""),
      h("p", {}, h("a", { href: "#/staff" }, "Try again")));
    return false;
  }
  if (!params.has("code") || !params.has("state")) return false;
  const users = await userManager();
  try {
    await users?.signinRedirectCallback();
  } catch (error) {
    history.replaceState(null, "", `${location.pathname}#/staff`);
    show(h("h1", {}, "Sign-in did not succeed"), h("p", { role: "alert" }, error instanceof Error ? error.message : String(error)),
      h("p", {}, h("a", { href: "#/staff" }, "Try again")));
    return false;
  }
  history.replaceState(null, "", `${location.pathname}#/staff`);
  return true;
}

export async function staffRoute(path: string): Promise<void> {
  const users = await userManager();
  if (!users) {
    show(h("h1", {}, "Staff sign-in is not set up"), h("p", {}, "The service has no OpenID provider configured (WebClient:Oidc)."));
    return;
  }
  const staff = await currentStaff();
  if (!staff) {
    show(h("h1", {}, "Clinic staff"),
      h("p", {}, "Sign in with your clinic account to see your patients."),
      h("button", { type: "button", onclick: () => void users.signinRedirect() }, "Sign in"));
    return;
  }
  const patient = /^\/staff\/patients\/(\d+)$/.exec(path);
  if (staff.role === "practitioner" || staff.role === "admin") {
    await (patient ? patientPage(staff, Number(patient[1])) : patientList(staff));
  } else if (staff.role === "auditor") {
    await auditorDashboard(staff);
  } else {
    show(h("h1", {}, "Nothing here for this account"), h("p", {}, `Signed in as ${staff.name}, without a role this service knows.`));
  }
  const bar = document.querySelector(".bar")!;
  bar.querySelector(".signout")?.remove();
  bar.append(h("button", { type: "button", class: "link signout", onclick: async () => {
    await users.removeUser();
    await users.signoutRedirect();
  } }, "Sign out"));
}
