import "./styles.css";
import { checkIn } from "./checkin";
import { h, show } from "./dom";
import { clearSession, loadSession, pair, unpair, Unpaired } from "./session";

function pairPage(code = ""): void {
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "card" },
    h("label", { for: "code" }, "Pairing code"),
    h("input", { id: "code", name: "code", value: code, required: true, autocomplete: "one-time-code", autocapitalize: "characters", spellcheck: "false", "aria-describedby": "code-help" }),
    h("p", { id: "code-help", class: "note" }, "Eight letters and numbers, such as 7KQ4-M2XD. The clinic gives it to you, on paper or as a QR code."),
    h("label", { for: "device" }, "A name for this phone"),
    h("input", { id: "device", name: "device", value: "My phone", maxlength: 100, required: true }),
    h("button", { type: "submit" }, "Pair this phone"),
    error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    error.textContent = "";
    try {
      await pair(String(data.get("code")), String(data.get("device")));
      location.hash = "#/";
    } catch (e) {
      error.textContent = e instanceof Error ? e.message : "The code could not be checked.";
    }
  });
  show(h("h1", {}, "Pair this phone"),
    h("p", {}, "Pairing lets this phone send your weekly check-in to the clinic, without a password. You only do it once."),
    form);
}

function unpairedPage(reason: string): void {
  show(h("h1", {}, "This phone is no longer paired"),
    h("div", { class: "card", role: "alert" },
      h("p", {}, reason),
      h("p", {}, "Nothing more can be sent from it. Ask the clinic for a new pairing code to use it again; anything still waiting on this phone is sent once it is paired again.")),
    h("p", {}, h("a", { href: "#/pair", class: "button" }, "Pair with a new code")));
}

async function route(): Promise<void> {
  const [path = "", query = ""] = location.hash.replace(/^#/, "").split("?");
  const search = new URLSearchParams(location.search);
  if (search.get("staff") === "signed-out") {
    // Back from signing out at the provider: the staff page, to sign in again.
    history.replaceState(null, "", `${location.pathname}#/staff`);
    const staff = await import("./staff/index");
    await staff.staffRoute("/staff");
    return;
  }
  if (path.startsWith("/staff") || search.has("state")) {
    const staff = await import("./staff/index");
    if (search.has("state")) {
      if (await staff.completeSignIn()) await staff.staffRoute("/staff");
      return;
    }
    await staff.staffRoute(path);
    return;
  }
  if (path === "/pair") {
    pairPage(new URLSearchParams(query).get("code") ?? "");
    return;
  }
  const session = await loadSession();
  if (!session) {
    pairPage();
    return;
  }
  await checkIn(session, async () => {
    await unpair(session);
    unpairedPage("You unpaired this phone.");
  });
}

async function onUnpaired(): Promise<void> {
  await clearSession();
  unpairedPage("The clinic, or you from another device, unpaired this phone.");
}

function connection(): void {
  document.getElementById("connection")!.textContent = navigator.onLine ? "" : "Offline: what you send is kept on this phone until it is back online.";
}

window.addEventListener("unhandledrejection", (event) => {
  if (event.reason instanceof Unpaired) {
    event.preventDefault();
    void onUnpaired();
  }
});
window.addEventListener("hashchange", () => void route().catch((e) => (e instanceof Unpaired ? onUnpaired() : Promise.reject(e))));
window.addEventListener("online", () => {
  connection();
  void route().catch((e) => (e instanceof Unpaired ? onUnpaired() : Promise.reject(e)));
});
window.addEventListener("offline", connection);
connection();
void route().catch((e) => (e instanceof Unpaired ? onUnpaired() : Promise.reject(e)));

if ("serviceWorker" in navigator) {
  void navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
}
