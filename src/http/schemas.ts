/**
 * Result shapes that exist only on the wire (the client shapes live in
 * ../client.ts). Declared as zod schemas so the OpenAPI document is
 * generated from the same source the handler's results follow.
 */
import * as z from "zod";

export const deletedResourceSchema = z
  .object({ id: z.string().describe("Id of the client the call acted on.") })
  .describe("Result of a delete.");
export type DeletedResource = z.infer<typeof deletedResourceSchema>;

export const rotatedSecretSchema = z
  .object({
    client_secret: z.string().describe("The new current secret; shown once. The previous one keeps working until the rotated secret is deleted."),
  })
  .describe("Result of a secret rotation.");
export type RotatedSecret = z.infer<typeof rotatedSecretSchema>;

export const oauthScopeSchema = z
  .object({
    id: z.string().describe("The scope, as used in a client's scopes."),
    name: z.string().describe("Human-readable name (the scope itself unless the host supplies one)."),
    category: z.string().optional().describe("Category for grouping scopes in a UI."),
    scopes: z
      .array(z.string())
      .optional()
      .describe("The underlying resource scopes this scope grants, when the host describes them."),
  })
  .describe("An API scope clients may request.");
export type OAuthScope = z.infer<typeof oauthScopeSchema>;
