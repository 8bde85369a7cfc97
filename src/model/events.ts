/**
 * Audit events: what happened to which client, when. Events never carry a
 * secret or a secret hash.
 */
import type { AssertionRefusal } from "../registry/assertions.js";
import type { ChangeTrackedField, ClientSource, VerificationStatus } from "../fields.js";

interface EventBase {
  account_id: string;
  client_id: string;
  /** RFC 3339 UTC time of the operation. */
  at: string;
}

/** Every event the registry emits through the `onEvent` option. */
export type RegistryEvent =
  | (EventBase & { type: "client.created"; source: ClientSource })
  | (EventBase & { type: "client.imported" })
  | (EventBase & {
      type: "client.updated";
      changed_fields: ChangeTrackedField[];
      /** Set when the change came through RFC 7592 registration management or a refreshed metadata document, not the management API. */
      via?: "registration" | "metadata_document";
    })
  | (EventBase & {
      type: "client.deleted";
      /** Set when not deleted by the management API: by RFC 7592 registration management, or by `purgeClients`. */
      reason?: "registration" | "purged";
    })
  | (EventBase & { type: "client.secret_rotated" })
  | (EventBase & { type: "client.rotated_secret_deleted" })
  | (EventBase & { type: "client.promoted" })
  | (EventBase & { type: "client.uri_verification_changed"; status: VerificationStatus })
  | (EventBase & {
      type: "client.authenticated";
      /** What matched: the current or the rotated secret, or a private_key_jwt assertion. */
      matched: "current" | "rotated" | "private_key_jwt";
    })
  | (Omit<EventBase, "account_id"> & {
      type: "client.authentication_failed";
      /** Null when no client has this id. */
      account_id: string | null;
      reason: "unknown_client" | "invalid_secret" | "no_secret" | "secret_expired" | "invalid_assertion";
      /** For "invalid_assertion": which rule refused the private_key_jwt assertion. */
      detail?: AssertionRefusal;
    });

export type RegistryEventType = RegistryEvent["type"];

/** Listener for audit events; may be async. Errors and slowness never affect the operation. */
export type RegistryEventListener = (event: RegistryEvent) => void | Promise<void>;

/**
 * Calls the listener without letting it break or block the operation: a
 * thrown error or a rejected promise is swallowed, and a returned promise is
 * not awaited.
 */
export function emitSafely(listener: RegistryEventListener | undefined, event: RegistryEvent): void {
  if (!listener) return;
  try {
    const result = listener(event);
    if (result && typeof (result as Promise<void>).then === "function") {
      (result as Promise<void>).then(undefined, () => undefined);
    }
  } catch {
    // A failing audit listener must not undo or fail a completed operation.
  }
}
