/**
 * The operator console: sign-in, the client list, create / edit forms
 * generated from the OpenAPI document, secrets, promotion and deletion.
 * Views are chosen by the URL hash so the browser's back button and
 * bookmarks work; everything is rendered with `h` (text only, never HTML).
 */
import { ApiError, call, clientsPath, loadCredentials, saveCredentials, type Answer, type Client, type Credentials } from "./api.js";
import { copyButton, h, replace, uriText, when } from "./dom.js";
import { bodyOf, fieldsOf, renderForm, type FormField, type JsonSchema } from "./form.js";

const apiBase = document.querySelector<HTMLMetaElement>('meta[name="api-base"]')?.content ?? "/client/v4";
const view = document.getElementById("view") as HTMLElement;
const status = document.getElementById("status") as HTMLElement;
const session = document.getElementById("session") as HTMLElement;

let credentials: Credentials | null = loadCredentials();
let openApi: { components: { schemas: Record<string, JsonSchema> } } | null = null;
let scopeCatalog: string[] | null = null;
/** Sources that mean the client registered itself. */
const SELF_REGISTERED = new Set(["dcr", "cimd"]);
const PAGE_SIZE = 50;

function api<T>(method: string, path: string, options?: { body?: unknown; ifMatch?: string | null }): Promise<Answer<T>> {
  return call<T>(apiBase, credentials, method, path, options).catch((error: unknown) => {
    // A revoked or mistyped credential: back to sign-in rather than a page of errors.
    if (error instanceof ApiError && error.status === 401) signOut("Your credentials were refused. Sign in again.");
    throw error;
  });
}

/** Announces a message in the live region (and shows it). */
function say(message: string, tone: "info" | "error" = "info"): void {
  status.className = tone;
  replace(status, message);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function accountId(): string {
  return credentials?.accountId ?? "";
}

/** Set by the console's own navigation, whose message should outlive the view change it causes. */
let keepStatus = false;

function go(hash: string): void {
  if (location.hash === hash) {
    void render();
    return;
  }
  keepStatus = true;
  location.hash = hash;
}

function signOut(message = "Signed out."): void {
  credentials = null;
  saveCredentials(null);
  go("#/");
  say(message);
}

function renderSession(): void {
  if (credentials === null) {
    replace(session);
    return;
  }
  replace(
    session,
    h("span", { class: "account" }, "Account ", h("code", {}, credentials.accountId)),
    h("button", { type: "button", class: "secondary", onclick: () => signOut() }, "Sign out"),
  );
}

// ---------------------------------------------------------------- sign-in

function signInView(): HTMLElement {
  let useKey = false;
  const fields = h("div");
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const token = h("input", { id: "token", type: "password", autocomplete: "off", required: true });
  const key = h("input", { id: "key", type: "password", autocomplete: "off", required: true });
  const email = h("input", { id: "email", type: "email", autocomplete: "username", required: true });
  const account = h("input", { id: "account", type: "text", autocomplete: "off", spellcheck: "false", required: true });
  const toggle = h("button", { type: "button", class: "link" });
  const draw = () => {
    replace(
      fields,
      useKey
        ? [h("div", { class: "field" }, h("label", { for: "key" }, "API key"), key), h("div", { class: "field" }, h("label", { for: "email" }, "Email"), email)]
        : h("div", { class: "field" }, h("label", { for: "token" }, "API token"), token),
    );
    replace(toggle, useKey ? "Use an API token instead" : "Use an API key and email instead");
  };
  toggle.addEventListener("click", () => {
    useKey = !useKey;
    draw();
  });
  draw();
  const form = h(
    "form",
    { class: "card narrow", novalidate: true, "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    h("p", {}, "Use a credential of this server: the token or key it printed at start-up, or one from its credentials file. It is kept in this tab only and dropped on sign-out."),
    fields,
    toggle,
    h("div", { class: "field" }, h("label", { for: "account" }, "Account ID"), account),
    error,
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const candidate: Credentials = useKey
      ? { kind: "key", key: key.value, email: email.value, accountId: account.value }
      : { kind: "token", token: token.value, accountId: account.value };
    const missing = useKey ? key.value === "" || email.value === "" : token.value === "";
    if (missing || account.value === "") {
      error.hidden = false;
      replace(error, "Fill in every field.");
      return;
    }
    // One cheap call proves the credential before the console shows anything.
    call(apiBase, candidate, "GET", `${clientsPath(candidate.accountId)}?per_page=1`).then(
      () => {
        credentials = candidate;
        saveCredentials(candidate);
        say(`Signed in to account ${candidate.accountId}.`);
        go("#/");
      },
      (failure: unknown) => {
        error.hidden = false;
        const status = failure instanceof ApiError ? failure.status : 0;
        replace(error, status === 401 ? "These credentials were refused." : status === 403 ? "These credentials cannot list the clients of this account." : messageOf(failure));
      },
    );
  });
  return form;
}

// ---------------------------------------------------------------- list

interface ListState {
  source: string;
  use: "" | "never" | "used";
  usedBefore: string;
  cursors: string[];
}

const listState: ListState = { source: "", use: "", usedBefore: "", cursors: [] };

function listQuery(state: ListState, cursor: string | undefined): string {
  const query = new URLSearchParams({ per_page: String(PAGE_SIZE) });
  if (cursor) query.set("cursor", cursor);
  if (state.source) query.set("source", state.source);
  if (state.use === "never") query.set("never_used", "true");
  if (state.use === "used") query.set("never_used", "false");
  if (state.usedBefore) query.set("used_before", new Date(`${state.usedBefore}T00:00:00Z`).toISOString());
  return query.toString();
}

function sourceBadge(client: Client): HTMLElement {
  const source = client.source ?? "api";
  return h("span", { class: SELF_REGISTERED.has(source) ? "badge self" : "badge" }, source, SELF_REGISTERED.has(source) ? " · self-registered" : "");
}

async function listView(): Promise<HTMLElement> {
  const schemas = (await loadOpenApi()).components.schemas;
  const sources = ((schemas.OAuthClient?.properties?.source?.enum ?? ["api", "import", "dcr", "cimd"]) as unknown[]).map(String);
  const cursor = listState.cursors[listState.cursors.length - 1];
  const answer = await api<Client[]>("GET", `${clientsPath(accountId())}?${listQuery(listState, cursor)}`);
  const clients = answer.result;
  const next = answer.info?.cursor ?? null;
  const filtered = listState.source !== "" || listState.use !== "" || listState.usedBefore !== "";

  const source = h("select", { id: "filter-source" }, h("option", { value: "" }, "Any"), sources.map((s) => h("option", { value: s, selected: s === listState.source }, s)));
  const use = h(
    "select",
    { id: "filter-use" },
    h("option", { value: "" }, "Any"),
    h("option", { value: "never", selected: listState.use === "never" }, "Never used"),
    h("option", { value: "used", selected: listState.use === "used" }, "Used at least once"),
  );
  const usedBefore = h("input", { id: "filter-before", type: "date", value: listState.usedBefore });
  const filters = h(
    "form",
    { class: "filters", "aria-label": "Filters" },
    h("div", { class: "field" }, h("label", { for: "filter-source" }, "Source"), source),
    h("div", { class: "field" }, h("label", { for: "filter-use" }, "Use"), use),
    h("div", { class: "field" }, h("label", { for: "filter-before" }, "Not used since"), usedBefore),
    h("button", { type: "submit", class: "secondary" }, "Apply filters"),
  );
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    Object.assign(listState, { source: source.value, use: use.value as ListState["use"], usedBefore: usedBefore.value, cursors: [] });
    void render();
  });

  const table =
    clients.length === 0
      ? h(
          "div",
          { class: "empty card" },
          filtered
            ? h("p", {}, "No client matches these filters.")
            : [
                h("h2", {}, "No clients yet"),
                h("p", {}, "Create the first OAuth client of this account with “Create client”: give it a name, its redirect URIs and how it authenticates. Its secret is shown once, right after."),
              ],
        )
      : h(
          "table",
          { class: "clients" },
          h("caption", { class: "visually-hidden" }, "OAuth clients"),
          h("thead", {}, h("tr", {}, ["Name", "Client ID", "Source", "Auth method", "Visibility", "Last used", "Created"].map((c) => h("th", { scope: "col" }, c)))),
          h(
            "tbody",
            {},
            clients.map((client) =>
              h(
                "tr",
                {},
                h("td", { "data-label": "Name" }, h("a", { href: `#/clients/${encodeURIComponent(client.client_id)}` }, client.client_name)),
                h("td", { "data-label": "Client ID" }, h("code", {}, client.client_id), " ", copyButton("Copy ID", () => client.client_id)),
                h("td", { "data-label": "Source" }, sourceBadge(client)),
                h("td", { "data-label": "Auth method" }, client.token_endpoint_auth_method),
                h("td", { "data-label": "Visibility" }, client.visibility),
                h("td", { "data-label": "Last used" }, when(client.last_used_at)),
                h("td", { "data-label": "Created" }, when(client.created_at)),
              ),
            ),
          ),
        );
  const paging = h(
    "nav",
    { class: "paging", "aria-label": "Pages" },
    listState.cursors.length > 0
      ? h("button", { type: "button", class: "secondary", onclick: () => ((listState.cursors = []), void render()) }, "First page")
      : null,
    next
      ? h("button", { type: "button", class: "secondary", onclick: () => (listState.cursors.push(next), void render()) }, "Next page")
      : null,
  );
  return h(
    "section",
    { "aria-labelledby": "list-title" },
    h(
      "div",
      { class: "toolbar" },
      h("h1", { id: "list-title" }, "OAuth clients"),
      h("a", { href: "#/new", class: "button" }, "Create client"),
      h("a", { href: "#/purge", class: "button secondary" }, "Purge idle self-registered clients"),
    ),
    filters,
    table,
    paging,
  );
}

// ---------------------------------------------------------------- OpenAPI, scopes

async function loadOpenApi(): Promise<NonNullable<typeof openApi>> {
  if (openApi !== null) return openApi;
  const response = await fetch(`${apiBase}/openapi.json`, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`The API description could not be loaded (HTTP ${response.status}).`);
  openApi = (await response.json()) as NonNullable<typeof openApi>;
  return openApi;
}

async function loadScopes(): Promise<string[]> {
  if (scopeCatalog !== null) return scopeCatalog;
  try {
    scopeCatalog = (await api<{ id: string }[]>("GET", "/oauth/scopes")).result.map((scope) => scope.id);
  } catch {
    scopeCatalog = [];
  }
  return scopeCatalog;
}

/** "Add" buttons for the catalog's scopes beside the scope fields. */
function scopeExtras(catalog: string[]) {
  return (field: FormField, control: HTMLElement): Node | null => {
    if ((field.name !== "scopes" && field.name !== "optional_scopes") || catalog.length === 0 || !(control instanceof HTMLTextAreaElement)) return null;
    return h(
      "div",
      { class: "catalog", role: "group", "aria-label": `Scopes of the catalog for ${field.label}` },
      catalog.map((scope) =>
        h(
          "button",
          {
            type: "button",
            class: "chip",
            onclick: () => {
              const lines = control.value.split("\n").filter((line) => line !== "");
              if (!lines.includes(scope)) control.value = [...lines, scope].join("\n");
            },
          },
          `+ ${scope}`,
        ),
      ),
    );
  };
}

// ---------------------------------------------------------------- create / edit

async function formView(clientId: string | null): Promise<HTMLElement> {
  const [document_, catalog] = await Promise.all([loadOpenApi(), loadScopes()]);
  const schema = document_.components.schemas[clientId === null ? "CreateClientInput" : "UpdateClientInput"];
  if (!schema) throw new Error("The API description has no client input schema.");
  const fields = fieldsOf(schema);
  let original: Answer<Client> | null = null;
  if (clientId !== null) original = await api<Client>("GET", clientsPath(accountId(), clientId));
  const generated = renderForm(fields, original?.result ?? { grant_types: ["authorization_code"], response_types: ["code"], token_endpoint_auth_method: "client_secret_basic" }, scopeExtras(catalog));
  const formError = h("div", { class: "form-error", role: "alert", hidden: true });
  const title = clientId === null ? "Create client" : `Edit ${original?.result.client_name ?? ""}`;
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-labelledby": "form-title" },
    h("h1", { id: "form-title" }, title),
    formError,
    generated.element,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit" }, clientId === null ? "Create" : "Save changes"),
      h("a", { href: clientId === null ? "#/" : `#/clients/${encodeURIComponent(clientId)}`, class: "button secondary" }, "Cancel"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    generated.clearIssues();
    formError.hidden = true;
    const body = bodyOf(fields, generated.read(), original?.result ?? null);
    const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
    submit.disabled = true;
    const request =
      clientId === null
        ? api<Client & { client_secret?: string }>("POST", clientsPath(accountId()), { body })
        : api<Client>("PATCH", clientsPath(accountId(), clientId), { body, ifMatch: original?.etag ?? null });
    request.then(
      (answer) => {
        const created = answer.result;
        go(`#/clients/${encodeURIComponent(created.client_id)}`);
        say(clientId === null ? `Client “${created.client_name}” created.` : "Changes saved.");
        if (typeof created.client_secret === "string") showSecret(created.client_secret, created.client_name);
      },
      (error: unknown) => {
        submit.disabled = false;
        if (error instanceof ApiError && error.status === 412) {
          formError.hidden = false;
          replace(
            formError,
            h("p", {}, "Someone else changed this client since you opened it, so nothing was saved. Reload to see the current version (your edits here are discarded)."),
            h("button", { type: "button", onclick: () => void render() }, "Reload"),
          );
          formError.querySelector("button")?.focus();
          return;
        }
        const issues = error instanceof ApiError ? error.issues.map((i) => ({ pointer: i.source?.pointer, message: i.message })) : [{ pointer: undefined, message: messageOf(error) }];
        const unplaced = generated.showIssues(issues);
        if (unplaced.length > 0) {
          formError.hidden = false;
          replace(formError, unplaced.map((message) => h("p", {}, message)));
          if (unplaced.length === issues.length) formError.focus();
        }
        say("The client was not saved: see the messages at the fields.", "error");
      },
    );
  });
  return form;
}

// ---------------------------------------------------------------- dialogs

/** A modal dialog; removed from the page, with everything it showed, when it closes. */
function dialog(labelledBy: string, ...children: (Node | string | null)[]): HTMLDialogElement {
  const element = h("dialog", { "aria-labelledby": labelledBy }, ...children);
  element.addEventListener("close", () => element.remove());
  document.body.append(element);
  element.showModal();
  return element;
}

/** The secret, once: copy it now, it is never shown again. */
function showSecret(secret: string, clientName: string): void {
  const close = h("button", { type: "button" }, "I have copied it — close");
  const box = dialog(
    "secret-title",
    h("h2", { id: "secret-title" }, "Client secret"),
    h("p", {}, "The secret of “", clientName, "”. ", h("strong", {}, "You will not see this again:"), " copy it now and store it where the client reads it."),
    h("p", {}, h("code", { class: "secret", id: "secret-value" }, secret)),
    h("div", { class: "actions" }, copyButton("Copy secret", () => secret), close),
  );
  close.addEventListener("click", () => {
    box.close();
    // At once, not on the queued close event: the secret leaves the page with the dialog.
    box.remove();
  });
}

function confirmDelete(client: Client): void {
  const input = h("input", { id: "confirm-name", type: "text", autocomplete: "off", spellcheck: "false" });
  const remove = h("button", { type: "submit", class: "danger", disabled: true }, "Delete client");
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  input.addEventListener("input", () => {
    remove.disabled = input.value !== client.client_name;
  });
  const form = h(
    "form",
    { method: "dialog", novalidate: true },
    h("h2", { id: "delete-title" }, "Delete this client?"),
    h("p", {}, "Its tokens can no longer be issued and its secret stops working at once. This cannot be undone."),
    h("div", { class: "field" }, h("label", { for: "confirm-name" }, "Type the client name to confirm: ", h("strong", { class: "quoted" }, client.client_name)), input),
    error,
    h("div", { class: "actions" }, remove, h("button", { type: "button", class: "secondary", onclick: () => box.close() }, "Cancel")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    // Confirmed by name rather than by version: a use of the client between reading and deleting it moves its ETag.
    api("DELETE", clientsPath(accountId(), client.client_id)).then(
      () => {
        box.close();
        go("#/");
        say(`Client “${client.client_name}” deleted.`);
      },
      (failure: unknown) => {
        error.hidden = false;
        replace(error, messageOf(failure));
      },
    );
  });
  const box = dialog("delete-title", form);
  input.focus();
}

// ---------------------------------------------------------------- detail

const SUMMARY_ORDER = ["client_id", "client_name", "visibility", "source", "token_endpoint_auth_method", "created_at", "updated_at", "last_used_at"];
const TIME_FIELDS = /_at$/;
const URI_FIELDS = /(^|_)uris?$/;

function valueNode(name: string, value: unknown): Node {
  if (value === null || value === undefined) return h("span", { class: "muted" }, name.endsWith("_at") ? "never" : "—");
  if (Array.isArray(value)) {
    if (value.length === 0) return h("span", { class: "muted" }, "none");
    return h("ul", { class: "values" }, value.map((item) => h("li", {}, URI_FIELDS.test(name) && typeof item === "string" ? uriText(item) : String(item))));
  }
  if (typeof value === "string") {
    if (TIME_FIELDS.test(name)) return h("time", { datetime: value }, when(value));
    return URI_FIELDS.test(name) ? uriText(value) : h("span", {}, value);
  }
  if (typeof value === "object") return h("pre", { class: "code" }, JSON.stringify(value, null, 2));
  return h("span", {}, String(value));
}

function promotionPanel(client: Client, etag: string | null): HTMLElement | null {
  if (client.visibility === "public") return h("section", { class: "card" }, h("h2", {}, "Public"), h("p", {}, "Promoted ", when(client.promoted_at), "."));
  const verification = client.client_uri_verification;
  const checks: [string, boolean, string][] = [
    ["A name", client.client_name.length > 0, ""],
    ["A logo URI", typeof client.logo_uri === "string", "Set logo_uri in Edit."],
    ["A verified client URI", verification?.status === "verified", client.client_uri ? `Verification: ${verification?.status ?? "not started"}.` : "Set client_uri in Edit."],
    ["At least one API scope (with a dot, such as account.read)", client.scopes.some((scope) => scope.includes(".")), "Add one in Edit."],
  ];
  const ready = checks.every(([, met]) => met);
  const result = h("p", { role: "status", class: "check-result" });
  let txt: HTMLElement | null = null;
  if (client.client_uri && verification && verification.status !== "verified") {
    let host = "";
    try {
      host = new URL(client.client_uri).hostname;
    } catch {
      host = client.client_uri;
    }
    txt = h(
      "div",
      { class: "txt" },
      h("p", {}, "Publish this TXT record at ", h("code", {}, host), ":"),
      h("p", {}, h("code", { id: "txt-record" }, verification.text), " ", copyButton("Copy TXT record", () => verification.text)),
      h("button", { type: "button", class: "secondary", onclick: () => checkNow(client, result) }, "Check now"),
      result,
    );
  }
  const promote = h("button", { type: "button", disabled: !ready }, "Promote to public");
  promote.addEventListener("click", () => {
    api<Client>("PATCH", clientsPath(accountId(), client.client_id), { body: { visibility: "public" }, ifMatch: etag }).then(
      () => {
        say(`Client “${client.client_name}” is public.`);
        void render();
      },
      (error: unknown) => say(error instanceof ApiError && error.status === 412 ? "The client changed meanwhile: look again, then promote." : messageOf(error), "error"),
    );
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "promotion-title" },
    h("h2", { id: "promotion-title" }, "Promotion to public"),
    h(
      "ul",
      { class: "checklist" },
      checks.map(([label, met, hint]) => h("li", { class: met ? "met" : "unmet" }, h("span", { class: "mark", "aria-hidden": "true" }, met ? "✓" : "✗"), `${label}: ${met ? "done" : "missing"}`, met || !hint ? "" : ` — ${hint}`)),
    ),
    txt,
    promote,
  );
}

function checkNow(client: Client, result: HTMLElement): void {
  replace(result, "Checking…");
  api<Client>("POST", clientsPath(accountId(), client.client_id, "/verify_client_uri"))
    .then(
      () => undefined,
      (error: unknown) => {
        // A server without the route still verifies in the background: re-reading shows where it stands.
        if (!(error instanceof ApiError) || (error.status !== 404 && error.status !== 405)) throw error;
      },
    )
    .then(() => api<Client>("GET", clientsPath(accountId(), client.client_id)))
    .then(
      (answer) => {
        const now = answer.result.client_uri_verification?.status ?? "not started";
        if (now === "verified") {
          say("The client URI is verified.");
          void render();
        } else replace(result, `Not verified yet (status: ${now}). DNS changes can take a while to appear.`);
      },
      (error: unknown) => replace(result, messageOf(error)),
    );
}

/** Longest grace period the API accepts for the previous secret: 90 days, in hours. */
const MAX_GRACE_HOURS = 90 * 24;

/** The secrets card: last uses, the rotated secret and when it stops working, rotation with an optional grace period. */
function secretsPanel(client: Client): HTMLElement {
  const clientId = client.client_id;
  const panel = h("section", { class: "card", "aria-labelledby": "secrets-title" }, h("h2", { id: "secrets-title" }, "Secrets"));
  panel.append(h("p", {}, "Current secret last used: ", when(client.secret_last_used_at), "."));
  if (client.has_rotated_secret) {
    const ends = typeof client.rotated_secret_expires_at === "string" ? client.rotated_secret_expires_at : null;
    panel.append(
      h("p", {}, "A rotated secret still authenticates. Last used: ", when(client.rotated_secret_last_used_at), "."),
      h(
        "p",
        { id: "rotated-secret-end" },
        ends === null
          ? "It keeps working until you delete it: delete it once every deployment uses the new one."
          : ["It stops working on ", h("time", { datetime: ends }, when(ends)), ". Delete it sooner once every deployment uses the new one."],
      ),
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          onclick: () =>
            api("DELETE", clientsPath(accountId(), clientId, "/rotate_secret")).then(
              () => (say("The rotated secret is deleted."), void render()),
              (error: unknown) => say(messageOf(error), "error"),
            ),
        },
        "Delete rotated secret",
      ),
    );
    return panel;
  }
  const grace = h("input", { id: "grace-hours", type: "number", min: "1", max: String(MAX_GRACE_HOURS), step: "1", inputmode: "numeric", "aria-describedby": "grace-hint grace-error" });
  const error = h("p", { id: "grace-error", class: "field-error", role: "alert", hidden: true });
  const rotate = h("button", { type: "button", class: "secondary" }, "Rotate secret");
  rotate.addEventListener("click", () => {
    const text = grace.value.trim();
    const hours = text === "" ? null : Number(text);
    if (hours !== null && !(Number.isInteger(hours) && hours >= 1 && hours <= MAX_GRACE_HOURS)) {
      grace.setAttribute("aria-invalid", "true");
      replace(error, `Enter whole hours from 1 to ${MAX_GRACE_HOURS}, or leave it empty.`);
      error.hidden = false;
      grace.focus();
      return;
    }
    grace.removeAttribute("aria-invalid");
    replace(error);
    error.hidden = true;
    // No If-Match: every use of the client moves its ETag, and a second rotation is refused (409) anyway.
    // Without a grace period no body is sent, as Cloudflare's API expects.
    const body = hours === null ? undefined : { grace_period_seconds: hours * 3600 };
    api<{ client_secret: string }>("POST", clientsPath(accountId(), clientId, "/rotate_secret"), { body }).then(
      (answer) => {
        void render();
        say(
          hours === null
            ? "Secret rotated: the previous secret keeps working until you delete it."
            : `Secret rotated: the previous secret keeps working for ${hours} ${hours === 1 ? "hour" : "hours"}, or until you delete it.`,
        );
        showSecret(answer.result.client_secret, client.client_name);
      },
      (failure: unknown) => say(messageOf(failure), "error"),
    );
  });
  panel.append(
    h("p", {}, "Rotating makes a new secret; the current one keeps working until you delete it, or for a grace period you choose."),
    h(
      "div",
      { class: "field" },
      h("label", { for: "grace-hours" }, "Grace period for the old secret (hours)"),
      grace,
      h("p", { id: "grace-hint", class: "hint" }, `Optional, 1 to ${MAX_GRACE_HOURS}. Empty: until you delete it.`),
      error,
    ),
    rotate,
  );
  return panel;
}

async function detailView(clientId: string): Promise<HTMLElement> {
  const { result: client, etag } = await api<Client>("GET", clientsPath(accountId(), clientId));
  const hasSecret = client.token_endpoint_auth_method === "client_secret_basic" || client.token_endpoint_auth_method === "client_secret_post";
  const keys = [...SUMMARY_ORDER.filter((k) => k in client), ...Object.keys(client).filter((k) => !SUMMARY_ORDER.includes(k)).sort()];
  const secrets = hasSecret ? secretsPanel(client) : null;
  return h(
    "section",
    { "aria-labelledby": "detail-title" },
    h("p", {}, h("a", { href: "#/" }, "← All clients")),
    h(
      "div",
      { class: "toolbar" },
      h("h1", { id: "detail-title" }, client.client_name),
      sourceBadge(client),
      h("a", { href: `#/clients/${encodeURIComponent(clientId)}/edit`, class: "button" }, "Edit"),
      h("button", { type: "button", class: "danger", onclick: () => confirmDelete(client) }, "Delete"),
    ),
    h(
      "div",
      { class: "grid" },
      h(
        "section",
        { class: "card", "aria-labelledby": "fields-title" },
        h("h2", { id: "fields-title" }, "Fields"),
        h("dl", { class: "fields" }, keys.flatMap((key) => [h("dt", {}, key), h("dd", {}, valueNode(key, client[key]))])),
      ),
      h("div", {}, secrets, promotionPanel(client, etag)),
    ),
  );
}

// ---------------------------------------------------------------- purge

/** Most clients a preview lists; a purge confirmed from a longer list stops there too. */
const PURGE_PREVIEW_MAX = 1000;
/** Most requests one preview or one purge makes (each reads a bounded slice of the account). */
const PURGE_MAX_REQUESTS = 200;

function purgePath(): string {
  return `/accounts/${encodeURIComponent(accountId())}/oauth_clients_purge`;
}

async function purgeView(): Promise<HTMLElement> {
  const days = h("input", { id: "idle-days", type: "number", min: "0", step: "1", value: "30", "aria-describedby": "idle-days-hint" });
  const preview = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-labelledby": "purge-title" },
    h("h1", { id: "purge-title" }, "Purge idle self-registered clients"),
    h("p", {}, "Clients that registered themselves (dcr, cimd) and have not been used for a while. Preview first: nothing is deleted until you confirm."),
    h(
      "div",
      { class: "field" },
      h("label", { for: "idle-days" }, "Idle for at least (days)"),
      days,
      h("p", { id: "idle-days-hint", class: "hint" }, "Since their last use, or since they registered when never used."),
    ),
    h("button", { type: "submit", class: "secondary" }, "Preview"),
    preview,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = Number(days.value);
    if (days.value.trim() === "" || !Number.isInteger(value) || value < 0 || value > 3650) {
      days.setAttribute("aria-invalid", "true");
      replace(preview, h("p", { class: "form-error", role: "alert" }, "Enter whole days from 0 to 3650."));
      return;
    }
    days.removeAttribute("aria-invalid");
    const idleSeconds = value * 86_400;
    replace(preview, h("p", {}, "Looking for idle clients…"));
    void collectIdle(idleSeconds).then(
      (found) => replace(preview, purgePreview(idleSeconds, found)),
      (error: unknown) => replace(preview, h("p", { class: "form-error", role: "alert" }, messageOf(error))),
    );
  });
  return h("section", {}, h("p", {}, h("a", { href: "#/" }, "← All clients")), form);
}

/** What the server's purge preview lists, up to {@link PURGE_PREVIEW_MAX}; `more` when it stopped short of the end. */
async function collectIdle(idleSeconds: number): Promise<{ clients: Client[]; more: boolean }> {
  const clients: Client[] = [];
  let cursor: string | null | undefined;
  let requests = 0;
  do {
    const query = new URLSearchParams({ idle_for_seconds: String(idleSeconds), per_page: "100" });
    if (cursor) query.set("cursor", cursor);
    const answer = await api<Client[]>("GET", `${purgePath()}?${query.toString()}`);
    clients.push(...answer.result);
    cursor = answer.info?.cursor;
    requests++;
  } while (cursor && clients.length < PURGE_PREVIEW_MAX && requests < PURGE_MAX_REQUESTS);
  return { clients, more: Boolean(cursor) };
}

/**
 * Runs the purge in the server's batches with the preview's parameters,
 * until the account has been looked at or as many clients as were listed
 * are gone (a preview cut short purges no more than it showed).
 */
async function runPurge(idleSeconds: number, listed: number, more: boolean): Promise<number> {
  let deleted = 0;
  let cursor: string | null = null;
  let requests = 0;
  do {
    const limit = more ? Math.min(100, listed - deleted) : 100;
    const body: { idle_for_seconds: number; limit: number; cursor?: string } = { idle_for_seconds: idleSeconds, limit };
    if (cursor !== null) body.cursor = cursor;
    const answer = await api<{ deleted: string[]; next_cursor: string | null }>("POST", purgePath(), { body });
    deleted += answer.result.deleted.length;
    cursor = answer.result.next_cursor;
    requests++;
  } while (cursor !== null && (!more || deleted < listed) && requests < PURGE_MAX_REQUESTS);
  return deleted;
}

function purgePreview(idleSeconds: number, found: { clients: Client[]; more: boolean }): Node {
  const idle = found.clients;
  if (idle.length === 0) return h("p", {}, "No self-registered client is idle that long.");
  const run = h("button", { type: "button", class: "danger" }, idle.length === 1 ? "Delete this client" : `Delete these ${idle.length} clients`);
  run.addEventListener("click", () => {
    run.disabled = true;
    runPurge(idleSeconds, idle.length, found.more).then(
      (deleted) => {
        // A client used meanwhile is kept; one that became idle meanwhile goes too: the count says what happened.
        say(deleted <= idle.length ? `${deleted} of ${idle.length} idle clients deleted.` : `${deleted} idle clients deleted (${idle.length} were listed; more became idle meanwhile).`);
        go("#/");
      },
      (error: unknown) => {
        run.disabled = false;
        say(messageOf(error), "error");
      },
    );
  });
  return h(
    "div",
    {},
    h("p", {}, found.more
        ? `The first ${idle.length} idle clients are listed; these will be deleted (purge again for the rest):`
        : `${idle.length} ${idle.length === 1 ? "client" : "clients"} will be deleted:`),
    h("ul", { class: "values" }, idle.map((client) => h("li", {}, client.client_name, " (", h("code", {}, client.client_id), `, ${client.source ?? ""}, last used ${when(client.last_used_at)})`))),
    run,
  );
}

// ---------------------------------------------------------------- routing

let rendering = 0;

async function render(): Promise<void> {
  const ticket = ++rendering;
  renderSession();
  if (credentials === null) {
    replace(view, signInView());
    view.querySelector<HTMLInputElement>("input")?.focus();
    return;
  }
  const path = location.hash.replace(/^#/, "") || "/";
  const detail = /^\/clients\/([^/]+)$/.exec(path);
  const edit = /^\/clients\/([^/]+)\/edit$/.exec(path);
  try {
    const content = detail
      ? await detailView(decodeURIComponent(detail[1]!))
      : edit
        ? await formView(decodeURIComponent(edit[1]!))
        : path === "/new"
          ? await formView(null)
          : path === "/purge"
            ? await purgeView()
            : await listView();
    // A newer navigation finished first: this result is stale.
    if (ticket !== rendering) return;
    replace(view, content);
    view.querySelector<HTMLElement>("h1")?.setAttribute("tabindex", "-1");
    view.querySelector<HTMLElement>("h1")?.focus();
  } catch (error) {
    if (ticket !== rendering || credentials === null) return;
    replace(view, h("div", { class: "card" }, h("h1", {}, error instanceof ApiError && error.status === 404 ? "Not found" : "Something went wrong"), h("p", {}, messageOf(error)), h("p", {}, h("a", { href: "#/" }, "Back to the clients"))));
  }
}

window.addEventListener("hashchange", () => {
  // The operator went somewhere else: the last message was about the previous view.
  if (!keepStatus) replace(status);
  keepStatus = false;
  void render();
});
void render();
