import { describe, expect, it } from "vitest";
import {
  ConflictError,
  InternalError,
  limitIssues,
  MAX_ISSUES,
  NotFoundError,
  OAuthClientError,
  OverloadedError,
  PreconditionFailedError,
  STATUS_BY_CODE,
  StorageUnavailableError,
  ValidationError,
  pointer,
  pointerToken,
} from "../src/model/errors.js";
import { ForbiddenError, PayloadTooLargeError, UnauthorizedError, UnsupportedMediaTypeError } from "../src/http/errors.js";
import { HTTP_ERROR_CODES } from "../src/http/index.js";
import * as main from "../src/index.js";

describe("errors: one class, subclasses with a stable code and an HTTP status", () => {
  const cases: [string, OAuthClientError, string, number][] = [
    ["ValidationError", new ValidationError([{ path: "/client_name", message: "must not be empty" }]), "validation_failed", 400],
    ["NotFoundError", new NotFoundError(), "not_found", 404],
    ["ConflictError", new ConflictError("conflict", "clash"), "conflict", 409],
    ["ConflictError", new ConflictError("rotated_secret_exists", "delete the rotated secret first"), "rotated_secret_exists", 409],
    ["ConflictError", new ConflictError("concurrent_modification", "retry"), "concurrent_modification", 409],
    ["ConflictError", new ConflictError("client_id_taken", "taken"), "client_id_taken", 409],
    ["UnauthorizedError", new UnauthorizedError(), "unauthorized", 401],
    ["ForbiddenError", new ForbiddenError(), "forbidden", 403],
    ["PayloadTooLargeError", new PayloadTooLargeError(65536), "payload_too_large", 413],
    ["UnsupportedMediaTypeError", new UnsupportedMediaTypeError("text/plain"), "unsupported_media_type", 415],
    ["PreconditionFailedError", new PreconditionFailedError(), "precondition_failed", 412],
    ["StorageUnavailableError", new StorageUnavailableError(), "storage_unavailable", 503],
    ["OverloadedError", new OverloadedError(), "overloaded", 503],
    ["InternalError", new InternalError(), "internal_error", 500],
  ];

  it.each(cases)("%s has code %s… and status", (name, error, code, status) => {
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(OAuthClientError);
    expect(error).toBeInstanceOf(Error);
  });

  it("only validation errors carry issues", () => {
    for (const [, error] of cases) {
      if (error instanceof ValidationError) expect(error.issues).toHaveLength(1);
      else expect(error.issues).toEqual([]);
    }
  });

  it("every code has one status, which the classes and the HTTP error table both use", () => {
    for (const [, error] of cases) expect(error.status).toBe(STATUS_BY_CODE[error.code]);
    for (const [code, status] of Object.entries(STATUS_BY_CODE)) {
      expect(HTTP_ERROR_CODES[code as keyof typeof STATUS_BY_CODE].status, code).toBe(status);
    }
  });

  it("the HTTP errors are still exported from the main entry", () => {
    expect(main.UnauthorizedError).toBe(UnauthorizedError);
    expect(main.ForbiddenError).toBe(ForbiddenError);
    expect(main.PayloadTooLargeError).toBe(PayloadTooLargeError);
    expect(main.UnsupportedMediaTypeError).toBe(UnsupportedMediaTypeError);
  });

  it("client errors expose their message, internal errors do not", () => {
    for (const [, error] of cases) expect(error.expose).toBe(!(error instanceof InternalError));
    expect(new InternalError("db exploded").expose).toBe(false);
  });

  it("InternalError keeps its cause", () => {
    const cause = new Error("disk full");
    expect(new InternalError("store failed", { cause }).cause).toBe(cause);
  });

  it("messages name what went wrong", () => {
    expect(new NotFoundError().message).toBe("OAuth client not found");
    expect(new PayloadTooLargeError(65536).message).toBe("request body exceeds 65536 bytes");
    expect(new UnsupportedMediaTypeError("text/plain").message).toBe(
      "expected content-type application/json, got text/plain",
    );
    expect(new UnsupportedMediaTypeError(null).message).toBe("expected content-type application/json, got none");
    expect(new ConflictError("rotated_secret_exists", "delete the rotated secret first").message).toBe(
      "delete the rotated secret first",
    );
  });

  describe("ValidationError message summarizes the first issue and the count", () => {
    it("one issue", () => {
      const error = new ValidationError([{ path: "/redirect_uris/0", message: "must not contain a fragment" }]);
      expect(error.message).toBe("invalid input: /redirect_uris/0: must not contain a fragment");
    });

    it("several issues", () => {
      const error = new ValidationError([
        { path: "/client_name", message: "must not be empty" },
        { path: "/scopes/1", message: "bad" },
        { path: "/scopes/2", message: "bad" },
      ]);
      expect(error.message).toBe("invalid input: /client_name: must not be empty (and 2 more)");
      expect(error.issues).toHaveLength(3);
    });

    it("an issue at the root has no path prefix", () => {
      expect(new ValidationError([{ path: "", message: "must be a JSON object" }]).message).toBe(
        "invalid input: must be a JSON object",
      );
    });

    it("no issue, or an explicit message", () => {
      expect(new ValidationError([]).message).toBe("invalid input");
      expect(new ValidationError([{ path: "/x", message: "y" }], "custom").message).toBe("custom");
    });
  });
});

describe("issues per error are bounded (no input makes an error much larger than itself)", () => {
  const issues = (n: number) => Array.from({ length: n }, (_, i) => ({ path: `/redirect_uris/${i}`, message: "bad" }));

  it("up to MAX_ISSUES (100) issues are kept as they are", () => {
    expect(MAX_ISSUES).toBe(100);
    expect(limitIssues(issues(3))).toEqual(issues(3));
    expect(limitIssues(issues(100))).toEqual(issues(100));
    expect(new ValidationError(issues(100)).issues).toEqual(issues(100));
  });

  it("a longer list keeps the first 99 and ends with one issue at the root counting the rest", () => {
    const limited = limitIssues(issues(16_006));
    expect(limited).toHaveLength(100);
    expect(limited.slice(0, 99)).toEqual(issues(99));
    expect(limited[99]).toEqual({ path: "", message: "and 15907 more issues (only the first 99 are listed)" });
    expect(limitIssues(issues(101))[99]).toEqual({ path: "", message: "and 2 more issues (only the first 99 are listed)" });
  });

  it("limiting twice changes nothing more", () => {
    const once = limitIssues(issues(500));
    expect(limitIssues(once)).toEqual(once);
  });

  it("ValidationError carries the limited list; its message still counts every issue", () => {
    const error = new ValidationError(issues(16_006));
    expect(error.issues).toEqual(limitIssues(issues(16_006)));
    expect(error.message).toBe("invalid input: /redirect_uris/0: bad (and 16005 more)");
  });
});

describe("JSON pointers (RFC 6901)", () => {
  it("joins tokens", () => {
    expect(pointer("scopes", 2)).toBe("/scopes/2");
    expect(pointer("redirect_uris", 0)).toBe("/redirect_uris/0");
    expect(pointer()).toBe("");
    expect(pointer("")).toBe("/");
  });

  it("escapes ~ as ~0 and / as ~1, ~ first", () => {
    expect(pointerToken("a/b")).toBe("a~1b");
    expect(pointerToken("m~n")).toBe("m~0n");
    expect(pointerToken("~1")).toBe("~01");
    expect(pointerToken("/~")).toBe("~1~0");
    expect(pointer("a/b", "c~d", 3)).toBe("/a~1b/c~0d/3");
  });
});
