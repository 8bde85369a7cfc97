import { describe, expect, it } from "vitest";
import {
  codePointLength,
  displayTextProblem,
  exceedsCodePoints,
  REFUSED_DISPLAY_CHARACTERS,
  wellFormedProblem,
} from "../src/rules/text.js";

const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
const refusedCodePoints = REFUSED_DISPLAY_CHARACTERS.flatMap((r) =>
  Array.from({ length: r.to - r.from + 1 }, (_, i) => r.from + i),
);

describe("well-formed Unicode: a lone UTF-16 surrogate cannot be stored as text", () => {
  it.each(["", "plain", "Café", "🚀 astral", "e\u0301", "\u{10FFFF}"])("%j is well-formed", (value) => {
    expect(wellFormedProblem(value)).toBeNull();
  });

  it.each([
    ["\ud800", "U+D800 at index 0"],
    ["abc\udfff", "U+DFFF at index 3"],
    ["🚀\ud83d", "U+D83D at index 2"],
    ["\udc00\ud800", "U+DC00 at index 0"],
  ])("%j is refused, naming the surrogate and where it is", (value, where) => {
    expect(wellFormedProblem(value)).toBe(
      `must be well-formed Unicode: it contains a lone UTF-16 surrogate (${where}), which no database can store as text`,
    );
  });
});

describe("lengths count Unicode code points", () => {
  it.each([
    ["", 0],
    ["abc", 3],
    ["🚀", 1],
    ["e\u0301", 2],
    ["👩‍💻", 3],
    ["🚀".repeat(200), 200],
    ["a\ud800b", 3],
  ])("%j has %d code points", (value, count) => {
    expect(codePointLength(value)).toBe(count);
  });

  it("exceedsCodePoints agrees with codePointLength around the limit", () => {
    for (const value of ["🚀".repeat(200), "🚀".repeat(201), "a".repeat(200), "a".repeat(201), "🚀".repeat(100) + "a".repeat(100)]) {
      expect(exceedsCodePoints(value, 200)).toBe(codePointLength(value) > 200);
    }
  });
});

describe("display text: no invisible or direction-changing characters", () => {
  it.each([
    "Acme",
    "Café Ünïcode",
    "مرحبا بالعالم",
    "שלום עולם",
    "日本語 中文 한국어",
    "नमस्ते",
    "e\u0301",
    "🚀 Launch",
    "❤️ Hearts",
    "1️⃣ First",
    "👩‍💻 Dev",
    "👩🏽‍💻 Dev",
    "🏳️‍🌈 Pride",
    "❤️‍🔥",
    "👨‍👩‍👧‍👦 Family",
    "🇯🇵 Japan",
    "a\u00a0b non-breaking space",
  ])("%j is accepted", (value) => {
    expect(displayTextProblem(value)).toBeNull();
  });

  it.each([
    [0x202e, "RIGHT-TO-LEFT OVERRIDE", "it changes the order in which the text around it is displayed"],
    [0x202d, "LEFT-TO-RIGHT OVERRIDE", "it changes the order in which the text around it is displayed"],
    [0x202a, "LEFT-TO-RIGHT EMBEDDING", "it changes the order in which the text around it is displayed"],
    [0x202b, "RIGHT-TO-LEFT EMBEDDING", "it changes the order in which the text around it is displayed"],
    [0x202c, "POP DIRECTIONAL FORMATTING", "it changes the order in which the text around it is displayed"],
    [0x2066, "LEFT-TO-RIGHT ISOLATE", "it changes the order in which the text around it is displayed"],
    [0x2067, "RIGHT-TO-LEFT ISOLATE", "it changes the order in which the text around it is displayed"],
    [0x2068, "FIRST STRONG ISOLATE", "it changes the order in which the text around it is displayed"],
    [0x2069, "POP DIRECTIONAL ISOLATE", "it changes the order in which the text around it is displayed"],
    [0x200e, "LEFT-TO-RIGHT MARK", "it changes the order in which the text around it is displayed"],
    [0x200f, "RIGHT-TO-LEFT MARK", "it changes the order in which the text around it is displayed"],
    [0x061c, "ARABIC LETTER MARK", "it changes the order in which the text around it is displayed"],
    [0x200b, "ZERO WIDTH SPACE", "it is invisible when displayed"],
    [0x200c, "ZERO WIDTH NON-JOINER", "it is invisible when displayed"],
    [0x2060, "WORD JOINER", "it is invisible when displayed"],
    [0xfeff, "ZERO WIDTH NO-BREAK SPACE", "it is invisible when displayed"],
    [0x00ad, "SOFT HYPHEN", "it is invisible when displayed"],
    [0x3164, "HANGUL FILLER", "it is invisible when displayed"],
    [0xe0041, "a TAG character", "it is invisible when displayed"],
    [0x2028, "LINE SEPARATOR", "it breaks the line when displayed"],
  ])("U+%s is refused by name", (codePoint, name, effect) => {
    const value = `Pay${String.fromCodePoint(codePoint)}pal`;
    expect(displayTextProblem(value)).toBe(`must not contain ${hex(codePoint)} (${name}): ${effect}`);
  });

  it("the zero width joiner is refused outside an emoji sequence", () => {
    for (const value of ["Pay\u200dpal", "\u200d🚀", "🚀\u200d", "🚀\u200da", "a\u200d🚀"]) {
      expect(displayTextProblem(value), JSON.stringify(value)).toBe(
        "must not contain U+200D (ZERO WIDTH JOINER) outside an emoji sequence: it is invisible when displayed",
      );
    }
  });

  it("emoji presentation selectors are refused after characters that are not emoji", () => {
    expect(displayTextProblem("Acme\ufe0f")).toBe("must not contain U+FE0F (VARIATION SELECTOR-16): it is invisible when displayed");
    expect(displayTextProblem("\ufe0eAcme")).toBe("must not contain U+FE0E (VARIATION SELECTOR-15): it is invisible when displayed");
    expect(displayTextProblem("\u8fbb\ufe00")).toMatch(/^must not contain U\+FE00 \(VARIATION SELECTOR-1\)/);
  });

  it("lists up to three distinct refused characters at once", () => {
    expect(displayTextProblem("\u202eA\u200bB\u202eC")).toBe(
      "must not contain U+202E (RIGHT-TO-LEFT OVERRIDE), U+200B (ZERO WIDTH SPACE): " +
        "characters that are invisible or change how the text around them is displayed are refused",
    );
    expect(displayTextProblem("\u202e\u200b\u2066\u00ad\ufeff")).toBe(
      "must not contain U+202E (RIGHT-TO-LEFT OVERRIDE), U+200B (ZERO WIDTH SPACE), U+2066 (LEFT-TO-RIGHT ISOLATE) " +
        "or other such characters: characters that are invisible or change how the text around them is displayed are refused",
    );
  });

  it("every refused code point is refused, alone and between letters", () => {
    const missed = refusedCodePoints.filter((codePoint) => {
      const char = String.fromCodePoint(codePoint);
      const alone = displayTextProblem(char);
      return !alone?.startsWith(`must not contain ${hex(codePoint)} (`) || displayTextProblem(`a${char}b`) === null;
    });
    expect(missed.map(hex)).toEqual([]);
  });

  it("the refused set is exactly Unicode's Default_Ignorable_Code_Point and Bidi_Control, plus line breaks and annotations", () => {
    const ignorable = /^[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]$/u;
    const extra = new Set([0x2028, 0x2029, 0xfff9, 0xfffa, 0xfffb]);
    const refused = new Set(refusedCodePoints);
    const outside = refusedCodePoints.filter((cp) => !ignorable.test(String.fromCodePoint(cp)) && !extra.has(cp));
    expect(outside.map(hex)).toEqual([]);
    const missing: number[] = [];
    for (let codePoint = 0; codePoint <= 0x10ffff; codePoint++) {
      if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
      if (!refused.has(codePoint) && ignorable.test(String.fromCodePoint(codePoint))) missing.push(codePoint);
    }
    expect(missing.map(hex)).toEqual([]);
  });
});
