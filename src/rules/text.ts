/**
 * Rules every text value of a client follows, stated once:
 *
 * - **Well-formed Unicode.** A lone UTF-16 surrogate has no UTF-8 encoding:
 *   SQLite and PostgreSQL would store something else and a read would not
 *   return what was acknowledged, so such strings are refused.
 * - **Lengths count Unicode code points.** "🚀" is one character, not two
 *   UTF-16 units; "👩‍💻" (two emoji and a joiner) is three.
 * - **Display text shows what it says.** `client_name` is rendered on
 *   consent screens, so characters that are invisible or that reorder the
 *   text around them are refused ({@link REFUSED_DISPLAY_CHARACTERS}).
 */
import * as z from "zod";

/** C0 controls (NUL included), DEL and C1 controls. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
/** Whitespace or a control character: never part of a URI or a scope as sent. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f]/;

/**
 * The issue of a text over its length limit.
 *
 * @example
 * ```ts
 * tooLongMessage(200); // "must be at most 200 characters"
 * ```
 */
export function tooLongMessage(max: number): string {
  return `must be at most ${max} characters`;
}

/**
 * Why `value` is not well-formed Unicode, or null when it is.
 *
 * @example
 * ```ts
 * wellFormedProblem("Caf\u00e9");   // null
 * wellFormedProblem("Caf\ud800");   // "must be well-formed Unicode: … U+D800 …"
 * ```
 */
export function wellFormedProblem(value: string): string | null {
  if (value.isWellFormed()) return null;
  const at = /\p{Surrogate}/u.exec(value)!;
  const unit = at[0].charCodeAt(0).toString(16).toUpperCase();
  return `must be well-formed Unicode: it contains a lone UTF-16 surrogate (U+${unit} at index ${at.index}), which no database can store as text`;
}

/**
 * Whether `value` has more than `max` Unicode code points. Reads at most
 * about `2 * max` UTF-16 units, however long `value` is.
 *
 * @example
 * ```ts
 * exceedsCodePoints("🚀🚀", 2); // false (4 UTF-16 units, 2 code points)
 * ```
 */
export function exceedsCodePoints(value: string, max: number): boolean {
  if (value.length <= max) return false;
  if (value.length > 2 * max) return true;
  return codePointLength(value) > max;
}

/**
 * The number of Unicode code points in `value` (a lone surrogate counts as one).
 *
 * @example
 * ```ts
 * codePointLength("e\u0301🚀"); // 3
 * ```
 */
export function codePointLength(value: string): number {
  let count = value.length;
  for (let i = 0; i < value.length - 1; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** What a refused display character does to the text it is in. */
export type DisplayEffect = "reorders" | "invisible" | "line-break";

/** A range of code points refused in display text. */
export interface RefusedCharacterRange {
  from: number;
  to: number;
  /** Unicode name of each code point, or a description of the range. */
  name: string | ((codePoint: number) => string);
  effect: DisplayEffect;
}

const named = (...names: string[]) => (codePoint: number, from: number) => names[codePoint - from] ?? "";

function range(from: number, to: number, name: string | ((codePoint: number, from: number) => string), effect: DisplayEffect): RefusedCharacterRange {
  return { from, to, name: typeof name === "string" ? name : (codePoint) => name(codePoint, from), effect };
}

const UNASSIGNED = "unassigned, invisible by default";

/**
 * Characters `client_name` must not contain: every Unicode Bidi_Control
 * character and every Default_Ignorable_Code_Point (characters a renderer
 * shows as nothing), plus the line and paragraph separators and the
 * interlinear annotation characters, which can break or hide text.
 * The emoji joiner and emoji presentation selectors are accepted inside
 * emoji sequences (see {@link displayTextProblem}).
 */
export const REFUSED_DISPLAY_CHARACTERS: readonly RefusedCharacterRange[] = Object.freeze([
  range(0x00ad, 0x00ad, "SOFT HYPHEN", "invisible"),
  range(0x034f, 0x034f, "COMBINING GRAPHEME JOINER", "invisible"),
  range(0x061c, 0x061c, "ARABIC LETTER MARK", "reorders"),
  range(0x115f, 0x1160, named("HANGUL CHOSEONG FILLER", "HANGUL JUNGSEONG FILLER"), "invisible"),
  range(0x17b4, 0x17b5, named("KHMER VOWEL INHERENT AQ", "KHMER VOWEL INHERENT AA"), "invisible"),
  range(
    0x180b,
    0x180f,
    named(
      "MONGOLIAN FREE VARIATION SELECTOR ONE",
      "MONGOLIAN FREE VARIATION SELECTOR TWO",
      "MONGOLIAN FREE VARIATION SELECTOR THREE",
      "MONGOLIAN VOWEL SEPARATOR",
      "MONGOLIAN FREE VARIATION SELECTOR FOUR",
    ),
    "invisible",
  ),
  range(0x200b, 0x200d, named("ZERO WIDTH SPACE", "ZERO WIDTH NON-JOINER", "ZERO WIDTH JOINER"), "invisible"),
  range(0x200e, 0x200f, named("LEFT-TO-RIGHT MARK", "RIGHT-TO-LEFT MARK"), "reorders"),
  range(0x2028, 0x2029, named("LINE SEPARATOR", "PARAGRAPH SEPARATOR"), "line-break"),
  range(
    0x202a,
    0x202e,
    named(
      "LEFT-TO-RIGHT EMBEDDING",
      "RIGHT-TO-LEFT EMBEDDING",
      "POP DIRECTIONAL FORMATTING",
      "LEFT-TO-RIGHT OVERRIDE",
      "RIGHT-TO-LEFT OVERRIDE",
    ),
    "reorders",
  ),
  range(
    0x2060,
    0x2065,
    named("WORD JOINER", "FUNCTION APPLICATION", "INVISIBLE TIMES", "INVISIBLE SEPARATOR", "INVISIBLE PLUS", UNASSIGNED),
    "invisible",
  ),
  range(
    0x2066,
    0x2069,
    named("LEFT-TO-RIGHT ISOLATE", "RIGHT-TO-LEFT ISOLATE", "FIRST STRONG ISOLATE", "POP DIRECTIONAL ISOLATE"),
    "reorders",
  ),
  range(
    0x206a,
    0x206f,
    named(
      "INHIBIT SYMMETRIC SWAPPING",
      "ACTIVATE SYMMETRIC SWAPPING",
      "INHIBIT ARABIC FORM SHAPING",
      "ACTIVATE ARABIC FORM SHAPING",
      "NATIONAL DIGIT SHAPES",
      "NOMINAL DIGIT SHAPES",
    ),
    "invisible",
  ),
  range(0x3164, 0x3164, "HANGUL FILLER", "invisible"),
  range(0xfe00, 0xfe0f, (cp, from) => `VARIATION SELECTOR-${cp - from + 1}`, "invisible"),
  range(0xfeff, 0xfeff, "ZERO WIDTH NO-BREAK SPACE", "invisible"),
  range(0xffa0, 0xffa0, "HALFWIDTH HANGUL FILLER", "invisible"),
  range(0xfff0, 0xfff8, UNASSIGNED, "invisible"),
  range(
    0xfff9,
    0xfffb,
    named("INTERLINEAR ANNOTATION ANCHOR", "INTERLINEAR ANNOTATION SEPARATOR", "INTERLINEAR ANNOTATION TERMINATOR"),
    "invisible",
  ),
  range(
    0x1bca0,
    0x1bca3,
    named(
      "SHORTHAND FORMAT LETTER OVERLAP",
      "SHORTHAND FORMAT CONTINUING OVERLAP",
      "SHORTHAND FORMAT DOWN STEP",
      "SHORTHAND FORMAT UP STEP",
    ),
    "invisible",
  ),
  range(0x1d173, 0x1d17a, "a MUSICAL SYMBOL format character", "invisible"),
  range(0xe0000, 0xe0000, UNASSIGNED, "invisible"),
  range(0xe0001, 0xe0001, "LANGUAGE TAG", "invisible"),
  range(0xe0002, 0xe001f, UNASSIGNED, "invisible"),
  range(0xe0020, 0xe007e, "a TAG character", "invisible"),
  range(0xe007f, 0xe007f, "CANCEL TAG", "invisible"),
  range(0xe0080, 0xe00ff, UNASSIGNED, "invisible"),
  range(0xe0100, 0xe01ef, (cp, from) => `VARIATION SELECTOR-${cp - from + 17}`, "invisible"),
  range(0xe01f0, 0xe0fff, UNASSIGNED, "invisible"),
]);

const hex = (codePoint: number) => codePoint.toString(16).toUpperCase().padStart(4, "0");

const REFUSED_PATTERN = new RegExp(
  `[${REFUSED_DISPLAY_CHARACTERS.map((r) => (r.from === r.to ? `\\u{${hex(r.from)}}` : `\\u{${hex(r.from)}}-\\u{${hex(r.to)}}`)).join("")}]`,
  "gu",
);

const EMOJI = /^\p{Emoji}$/u;
const PICTOGRAPH = /^\p{Extended_Pictographic}$/u;
const EMOJI_MODIFIER = /^\p{Emoji_Modifier}$/u;
const ZERO_WIDTH_JOINER = 0x200d;
const TEXT_PRESENTATION = 0xfe0e;
const EMOJI_PRESENTATION = 0xfe0f;

const EFFECT_TEXT: Readonly<Record<DisplayEffect, string>> = {
  reorders: "it changes the order in which the text around it is displayed",
  invisible: "it is invisible when displayed",
  "line-break": "it breaks the line when displayed",
};

function refusedRangeOf(codePoint: number): RefusedCharacterRange | undefined {
  return REFUSED_DISPLAY_CHARACTERS.find((r) => codePoint >= r.from && codePoint <= r.to);
}

/**
 * The Unicode name of a refused display character (or a description of
 * it), or null when the character is not refused.
 *
 * @example
 * ```ts
 * refusedCharacterName(0x202e); // "RIGHT-TO-LEFT OVERRIDE"
 * ```
 */
export function refusedCharacterName(codePoint: number): string | null {
  const r = refusedRangeOf(codePoint);
  if (!r) return null;
  return typeof r.name === "string" ? r.name : r.name(codePoint);
}

function codePointBefore(value: string, index: number): number | undefined {
  if (index === 0) return undefined;
  const unit = value.charCodeAt(index - 1);
  if (unit >= 0xdc00 && unit <= 0xdfff && index >= 2) {
    const high = value.charCodeAt(index - 2);
    if (high >= 0xd800 && high <= 0xdbff) return value.codePointAt(index - 2);
  }
  return unit;
}

const is = (pattern: RegExp, codePoint: number | undefined) =>
  codePoint !== undefined && pattern.test(String.fromCodePoint(codePoint));

/**
 * Emoji need two of the refused characters: the presentation selectors
 * after an emoji ("❤️" is U+2764 U+FE0F) and the joiner between two emoji
 * ("👩‍💻" is U+1F469 U+200D U+1F4BB). There they join pictures into one and
 * hide nothing.
 */
function partOfEmoji(codePoint: number, before: number | undefined, after: number | undefined): boolean {
  if (codePoint === TEXT_PRESENTATION || codePoint === EMOJI_PRESENTATION) return is(EMOJI, before);
  if (codePoint === ZERO_WIDTH_JOINER) {
    const joinsFrom = before === EMOJI_PRESENTATION || is(PICTOGRAPH, before) || is(EMOJI_MODIFIER, before);
    return joinsFrom && is(PICTOGRAPH, after);
  }
  return false;
}

/**
 * Why `value` cannot be shown to people as it is, or null when it can:
 * the refused characters it contains ({@link REFUSED_DISPLAY_CHARACTERS}),
 * each named by code point (the first three distinct ones are listed).
 *
 * @example
 * ```ts
 * displayTextProblem("Acme 🚀 ❤️ 👩‍💻");    // null
 * displayTextProblem("Acme\u202Egnp.exe"); // "must not contain U+202E (RIGHT-TO-LEFT OVERRIDE): it changes the order…"
 * ```
 */
export function displayTextProblem(value: string): string | null {
  const found = new Map<number, DisplayEffect>();
  let more = false;
  for (const match of value.matchAll(REFUSED_PATTERN)) {
    const codePoint = match[0].codePointAt(0)!;
    if (found.has(codePoint)) continue;
    const after = value.codePointAt(match.index + match[0].length);
    if (partOfEmoji(codePoint, codePointBefore(value, match.index), after)) continue;
    if (found.size === 3) {
      more = true;
      break;
    }
    found.set(codePoint, refusedRangeOf(codePoint)!.effect);
  }
  if (found.size === 0) return null;
  const listed = [...found.keys()].map(
    (cp) => `U+${hex(cp)} (${refusedCharacterName(cp)})${cp === ZERO_WIDTH_JOINER ? " outside an emoji sequence" : ""}`,
  );
  const effects = new Set(found.values());
  const reason =
    found.size === 1 && !more
      ? EFFECT_TEXT[[...effects][0]!]
      : "characters that are invisible or change how the text around them is displayed are refused";
  return `must not contain ${listed.join(", ")}${more ? " or other such characters" : ""}: ${reason}`;
}

/**
 * A text field's schema: well-formed Unicode and, with `max`, at most `max`
 * Unicode code points (which is what JSON Schema's maxLength counts too).
 * Every string field of a client is built from it.
 *
 * @example
 * ```ts
 * textSchema(5).safeParse("🚀🚀🚀🚀🚀").success; // true: five code points
 * ```
 */
export function textSchema(max?: number, tooLong = max === undefined ? "" : tooLongMessage(max)) {
  const wellFormed = z.string().refine((value) => wellFormedProblem(value) === null, {
    error: (issue) => wellFormedProblem(issue.input as string) ?? "must be well-formed Unicode",
    abort: true,
  });
  if (max === undefined) return wellFormed;
  return wellFormed
    .refine((value) => !exceedsCodePoints(value, max), { message: tooLong, abort: true })
    .meta({ maxLength: max });
}
