/** Time values callers send (import timestamps). */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * Milliseconds since the epoch of a strict RFC 3339 date-time, or NaN: no
 * rolled-over days or hours, an explicit offset or Z.
 *
 * @example
 * ```ts
 * parseRfc3339("2019-05-17T10:20:30Z"); // 1558088430000
 * parseRfc3339("2019-02-30T00:00:00Z"); // NaN
 * ```
 */
export function parseRfc3339(value: string): number {
  const m = RFC3339.exec(value);
  if (!m) return Number.NaN;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  if (m[9] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return Number.NaN;
  return Date.parse(value.toUpperCase());
}
