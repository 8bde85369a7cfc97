/**
 * Create and edit forms generated from the OpenAPI document the API serves
 * (itself generated from the field table): one control per property of
 * `CreateClientInput` / `UpdateClientInput`, chosen by its JSON Schema type,
 * so a new row in the field table appears here with no console change.
 */
import { h, replace } from "./dom.js";

/** The subset of JSON Schema the generated document uses. */
export interface JsonSchema {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
  maxLength?: number;
  $ref?: string;
}

/** How a property is edited. */
type Control =
  | { kind: "text" }
  | { kind: "number" }
  | { kind: "boolean" }
  | { kind: "select"; options: string[] }
  | { kind: "checkboxes"; options: string[] }
  | { kind: "lines" }
  | { kind: "json" };

/** One generated field. */
export interface FormField {
  name: string;
  label: string;
  required: boolean;
  nullable: boolean;
  control: Control;
  description: string;
}

/** Fields the console manages elsewhere: visibility is the promotion panel's. */
const MANAGED_ELSEWHERE = new Set(["visibility"]);

const ACRONYMS: Record<string, string> = { uri: "URI", uris: "URIs", cors: "CORS", jwks: "JWKS", tos: "terms of service", id: "ID", api: "API" };

/** "post_logout_redirect_uris" → "Post logout redirect URIs". */
export function labelOf(name: string): string {
  const words = name.split("_").map((word) => ACRONYMS[word] ?? word);
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A schema without its `null` alternative, and whether it had one. */
function unwrapNullable(schema: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const options = schema.anyOf;
  if (!options) return { schema, nullable: false };
  const others = options.filter((option) => option.type !== "null");
  return { schema: { ...others[0], description: others[0]?.description ?? schema.description }, nullable: others.length < options.length };
}

function controlOf(schema: JsonSchema): Control {
  if (schema.type === "string" && schema.enum) return { kind: "select", options: schema.enum.map(String) };
  if (schema.type === "string") return { kind: "text" };
  if (schema.type === "integer" || schema.type === "number") return { kind: "number" };
  if (schema.type === "boolean") return { kind: "boolean" };
  if (schema.type === "array" && schema.items?.type === "string" && schema.items.enum) return { kind: "checkboxes", options: schema.items.enum.map(String) };
  if (schema.type === "array" && schema.items?.type === "string") return { kind: "lines" };
  return { kind: "json" };
}

/** The fields of an input schema, in the document's order. */
export function fieldsOf(schema: JsonSchema): FormField[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {})
    .filter(([name]) => !MANAGED_ELSEWHERE.has(name))
    .map(([name, property]) => {
      const { schema: inner, nullable } = unwrapNullable(property);
      return { name, label: labelOf(name), required: required.has(name), nullable, control: controlOf(inner), description: inner.description ?? "" };
    });
}

/** A rendered form: its element, how to read it, and where to show issues. */
export interface GeneratedForm {
  element: HTMLFieldSetElement;
  /** Values of every field; `undefined` for an empty optional one. */
  read(): Record<string, unknown>;
  /** Shows each issue at its field (by the first segment of its JSON pointer); returns those that belong to no field. */
  showIssues(issues: { pointer: string | undefined; message: string }[]): string[];
  clearIssues(): void;
}

/** Extra controls beside a field (the scope catalog's "add" buttons). */
export type FieldExtras = (field: FormField, control: HTMLElement) => Node | null;

/** Renders `fields` filled with `values` (a client, for editing). */
export function renderForm(fields: FormField[], values: Record<string, unknown>, extras: FieldExtras = () => null): GeneratedForm {
  const readers = new Map<string, () => unknown>();
  const errors = new Map<string, { box: HTMLElement; control: HTMLElement }>();
  const element = h("fieldset", { class: "generated" });
  for (const field of fields) {
    const id = `field-${field.name}`;
    const errorId = `error-${field.name}`;
    const hintId = `hint-${field.name}`;
    const value = values[field.name];
    const describedBy = `${hintId} ${errorId}`;
    let control: HTMLElement;
    let read: () => unknown;
    const label = h("label", { for: id }, field.label);
    switch (field.control.kind) {
      case "select": {
        const select = h(
          "select",
          { id, name: field.name, "aria-describedby": describedBy },
          field.required ? null : h("option", { value: "" }, "(not set)"),
          field.control.options.map((option) => h("option", { value: option, selected: option === value }, option)),
        );
        control = select;
        read = () => (select.value === "" ? undefined : select.value);
        break;
      }
      case "checkboxes": {
        const chosen = new Set(Array.isArray(value) ? value.map(String) : []);
        const boxes = field.control.options.map((option) => h("input", { type: "checkbox", id: `${id}-${option}`, value: option, checked: chosen.has(option) }));
        control = h(
          "fieldset",
          { id, class: "choices", "aria-describedby": describedBy },
          h("legend", {}, field.label),
          boxes.map((box) => h("label", { for: box.id }, box, ` ${box.value}`)),
        );
        read = () => boxes.filter((box) => box.checked).map((box) => box.value);
        break;
      }
      case "lines": {
        const area = h("textarea", { id, name: field.name, rows: "3", spellcheck: "false", autocapitalize: "off", "aria-describedby": describedBy });
        area.value = Array.isArray(value) ? value.map(String).join("\n") : "";
        control = area;
        // One value per line; blank lines are spacing, not values.
        read = () => area.value.split("\n").filter((line) => line !== "");
        break;
      }
      case "json": {
        const area = h("textarea", { id, name: field.name, rows: "4", spellcheck: "false", class: "code", "aria-describedby": describedBy });
        area.value = value === undefined || value === null ? "" : JSON.stringify(value, null, 2);
        control = area;
        read = () => {
          if (area.value.trim() === "") return undefined;
          try {
            return JSON.parse(area.value) as unknown;
          } catch {
            // Sent as text: the API names the field and says what it expects.
            return area.value;
          }
        };
        break;
      }
      case "boolean": {
        const box = h("input", { type: "checkbox", id, name: field.name, checked: value === true, "aria-describedby": describedBy });
        control = box;
        read = () => box.checked;
        break;
      }
      default: {
        const input = h("input", {
          id,
          name: field.name,
          type: field.control.kind === "number" ? "number" : "text",
          spellcheck: "false",
          autocapitalize: "off",
          autocomplete: "off",
          "aria-describedby": describedBy,
        });
        input.value = value === undefined || value === null ? "" : String(value);
        control = input;
        // Never trimmed: the API refuses surrounding whitespace and says so at the field.
        read = () => (input.value === "" ? undefined : field.control.kind === "number" ? Number(input.value) : input.value);
      }
    }
    // A group of checkboxes cannot carry aria-required; its hint says "Required." instead.
    if (field.required && field.control.kind !== "checkboxes") control.setAttribute("aria-required", "true");
    readers.set(field.name, read);
    const box = h("p", { id: errorId, class: "field-error", role: "alert", hidden: true });
    errors.set(field.name, { box, control });
    const extra = extras(field, control);
    element.append(
      h(
        "div",
        { class: "field", "data-field": field.name },
        field.control.kind === "checkboxes" ? null : label,
        control,
        extra,
        h("p", { id: hintId, class: "hint" }, field.required ? h("strong", { class: "required" }, "Required. ") : null, field.description),
        box,
      ),
    );
  }
  const clearIssues = () => {
    for (const { box, control } of errors.values()) {
      replace(box);
      box.hidden = true;
      control.removeAttribute("aria-invalid");
    }
  };
  return {
    element,
    read: () => Object.fromEntries([...readers].map(([name, read]) => [name, read()])),
    clearIssues,
    showIssues(issues) {
      clearIssues();
      const unplaced: string[] = [];
      let first: HTMLElement | null = null;
      for (const issue of issues) {
        const [, name, ...rest] = (issue.pointer ?? "").split("/");
        const target = name === undefined ? undefined : errors.get(name.replace(/~1/g, "/").replace(/~0/g, "~"));
        if (!target) {
          unplaced.push(issue.message);
          continue;
        }
        // "/redirect_uris/1" is the second line of the field.
        const where = rest.length > 0 && /^\d+$/.test(rest[0]!) ? `Line ${Number(rest[0]) + 1}: ` : "";
        target.box.append(h("span", {}, `${where}${issue.message}`));
        target.box.hidden = false;
        target.control.setAttribute("aria-invalid", "true");
        first ??= target.control;
      }
      first?.focus();
      return unplaced;
    },
  };
}

/**
 * The body to send: on create every set field; on edit only what changed
 * from `original`, with `null` for an optional field emptied (back to its default).
 */
export function bodyOf(fields: FormField[], values: Record<string, unknown>, original: Record<string, unknown> | null): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of fields) {
    const value = values[field.name];
    if (original === null) {
      if (value !== undefined) body[field.name] = value;
      continue;
    }
    const before = original[field.name];
    if (JSON.stringify(value ?? null) === JSON.stringify(before ?? null)) continue;
    // An emptied optional list is the same as its default; only a set value that went away is cleared.
    if (Array.isArray(value) && value.length === 0 && (before === undefined || (Array.isArray(before) && before.length === 0))) continue;
    body[field.name] = value === undefined ? null : value;
  }
  return body;
}
