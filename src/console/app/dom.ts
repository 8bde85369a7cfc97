/**
 * The console's only way to build the page. Children are nodes or strings,
 * and strings always become text nodes; attributes go through setAttribute.
 * Nothing here (or anywhere in the console) assigns HTML, so a value from the
 * API — a client name of `<img onerror=…>` — is shown as the characters it is.
 */

/** A child of {@link h}: a node, text, or nothing (skipped). */
export type Child = Node | string | null | undefined | false;

/** Attributes and event handlers of {@link h}. */
export type Attributes = Record<string, string | boolean | ((event: Event) => void) | undefined>;

/** An element with attributes and children; `on…` keys add listeners, `true` sets an empty attribute. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

/** Appends children (flattened), strings as text nodes. */
export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** Replaces every child of `parent`. */
export function replace(parent: Node, ...children: (Child | Child[])[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, children);
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * A URL the console may turn into a link: https, or http on a loopback host.
 * Anything else (a private-use scheme, javascript:, a malformed value) stays text.
 */
export function linkable(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
}

/** A link for an https (or loopback http) URL, plain text otherwise; never followed with the console's referrer. */
export function uriText(value: string): HTMLElement {
  if (!linkable(value)) return h("span", { class: "uri" }, value);
  return h("a", { href: new URL(value).href, rel: "noopener noreferrer", target: "_blank", class: "uri" }, value);
}

/** Copies text to the clipboard and says so on the button for a moment. */
export function copyButton(label: string, text: () => string): HTMLButtonElement {
  const button = h("button", { type: "button", class: "secondary" }, label);
  button.addEventListener("click", () => {
    navigator.clipboard.writeText(text()).then(
      () => flash(button, "Copied"),
      () => flash(button, "Copy failed: select and copy by hand"),
    );
  });
  return button;
}

function flash(button: HTMLButtonElement, message: string): void {
  const original = button.textContent;
  button.textContent = message;
  setTimeout(() => {
    button.textContent = original;
  }, 1500);
}

/** A date from the API in the reader's locale, or "never" for null. */
export function when(value: string | null | undefined): string {
  if (value === null || value === undefined) return "never";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}
