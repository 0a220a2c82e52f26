// A few lines of DOM building: text is always set as text, never parsed as HTML.
type Child = Node | string | null | undefined | false;
type Attributes = Record<string, string | number | boolean | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.replace(/^on/, ""), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
  return element;
}

/** Replaces the page's content, and moves focus to its heading so that a screen reader announces the new page. */
export function show(...children: Child[]): void {
  render(true, ...children);
}

/** Replaces the page's content; with focus, moves it to the heading (a new page), else leaves it where it is (an update). */
export function render(focus: boolean, ...children: Child[]): void {
  const main = document.getElementById("main")!;
  const active = document.activeElement?.id;
  main.replaceChildren(...(children.filter(Boolean) as (Node | string)[]));
  const heading = main.querySelector("h1");
  if (!focus) {
    if (active) document.getElementById(active)?.focus();
    return;
  }
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
}

let nextId = 0;
export const uid = (prefix: string): string => `${prefix}-${++nextId}`;

/** "droopingEyelid" → "Drooping eyelid"; "much_better" → "Much better". */
export function words(code: string): string {
  const text = code.replace(/_/g, " ").replace(/([a-z])([A-Z0-9])/g, "$1 $2").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}
