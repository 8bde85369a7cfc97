/** The rank test the timing tests rely on, against values worked out by hand. */
import { describe, expect, it } from "vitest";
import { mannWhitney, median } from "./helpers/rank-test.js";

describe("mannWhitney", () => {
  it("gives U and z of a small textbook case", () => {
    // a = [1, 2, 3], b = [4, 5, 6]: a is never larger, U = 0; mean 4.5, variance 3·3·7/12 = 5.25.
    const result = mannWhitney([1, 2, 3], [4, 5, 6]);
    expect(result.u).toBe(0);
    expect(result.z).toBeCloseTo(-4.5 / Math.sqrt(5.25), 10);
    expect(mannWhitney([4, 5, 6], [1, 2, 3]).z).toBeCloseTo(4.5 / Math.sqrt(5.25), 10);
  });

  it("counts ties as half and corrects the variance for them", () => {
    // Ranks of [1, 2, 2, 3]: 1, 2.5, 2.5, 4; a = [1, 2] has rank sum 3.5, U = 0.5.
    const result = mannWhitney([1, 2], [2, 3]);
    expect(result.u).toBe(0.5);
    // Variance 2·2/12 · (5 − (2³ − 2)/(4·3)) = 1/3 · 4.5 = 1.5.
    expect(result.z).toBeCloseTo((0.5 - 2) / Math.sqrt(1.5), 10);
  });

  it("is 0 for identical samples, and for all-equal values", () => {
    expect(mannWhitney([3, 1, 2], [2, 3, 1]).z).toBe(0);
    expect(mannWhitney([5, 5, 5], [5, 5]).z).toBe(0);
  });

  it("reports medians and refuses samples too small to rank", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(mannWhitney([1, 9], [2, 3, 4])).toMatchObject({ medianA: 5, medianB: 3 });
    expect(() => mannWhitney([1], [2, 3])).toThrow(RangeError);
  });
});
