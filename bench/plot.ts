/**
 * The scaling plot, written as SVG by hand: CPU time per call against
 * store size (the clock other processes disturb least), one panel per operation, one colour per store, our code as solid
 * lines and the baseline as dashed ones. Both axes are logarithmic, so a
 * flat line means "does not grow with the store" and a slope of one means
 * "linear in the store".
 */

/** One line of a panel: cost (µs) at each size. */
export interface PlotSeries {
  store: string;
  side: "ours" | "baseline";
  points: { size: number; us: number }[];
}

/** One panel: an operation and its lines. */
export interface PlotPanel {
  title: string;
  series: PlotSeries[];
}

const COLOURS = ["#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"];
const W = 460;
const H = 330;
const M = { left: 64, right: 16, top: 34, bottom: 46 };

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Powers of ten (and 2× and 5× between them when the range is short) within [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const decades = Math.log10(hi / lo);
  const steps = decades < 2.5 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const s of steps) {
      const v = s * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
    }
  }
  return ticks;
}

function formatSize(n: number): string {
  return n >= 1000 ? `${n / 1000}k` : String(n);
}

function formatUs(us: number): string {
  if (us >= 1000) return `${us / 1000} ms`;
  return us >= 1 ? `${us} µs` : `${us * 1000} ns`;
}

function panel(p: PlotPanel, x0: number, colours: Map<string, string>): string {
  const sizes = [...new Set(p.series.flatMap((s) => s.points.map((q) => q.size)))].sort((a, b) => a - b);
  const costs = p.series.flatMap((s) => s.points.map((q) => q.us)).filter((v) => v > 0);
  const yLo = 10 ** Math.floor(Math.log10(Math.min(...costs)));
  const yHi = 10 ** Math.ceil(Math.log10(Math.max(...costs)));
  const xLo = sizes[0]!;
  const xHi = sizes.at(-1)!;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (size: number) => x0 + M.left + (xHi === xLo ? plotW / 2 : (Math.log10(size / xLo) / Math.log10(xHi / xLo)) * plotW);
  const y = (us: number) => M.top + plotH - (Math.log10(us / yLo) / Math.log10(yHi / yLo)) * plotH;
  const out: string[] = [];
  out.push(`<text x="${x0 + W / 2}" y="20" text-anchor="middle" font-weight="bold">${escapeXml(p.title)}</text>`);
  out.push(`<rect x="${x0 + M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  for (const t of logTicks(yLo, yHi)) {
    out.push(`<line x1="${x0 + M.left}" x2="${x0 + M.left + plotW}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${x0 + M.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${formatUs(t)}</text>`);
  }
  for (const s of sizes) {
    out.push(`<line x1="${x(s).toFixed(1)}" x2="${x(s).toFixed(1)}" y1="${M.top}" y2="${M.top + plotH}" stroke="#eee"/>`);
    out.push(`<text x="${x(s).toFixed(1)}" y="${M.top + plotH + 16}" text-anchor="middle">${formatSize(s)}</text>`);
  }
  out.push(`<text x="${x0 + M.left + plotW / 2}" y="${H - 8}" text-anchor="middle">clients in the store</text>`);
  out.push(`<text transform="translate(${x0 + 14} ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">CPU time per call (log)</text>`);
  for (const s of p.series) {
    const colour = colours.get(s.store)!;
    const pts = s.points.filter((q) => q.us > 0).sort((a, b) => a.size - b.size);
    const d = pts.map((q, i) => `${i === 0 ? "M" : "L"}${x(q.size).toFixed(1)},${y(q.us).toFixed(1)}`).join(" ");
    const dash = s.side === "baseline" ? ` stroke-dasharray="5 4" stroke-width="1.5"` : ` stroke-width="2.5"`;
    out.push(`<path d="${d}" fill="none" stroke="${colour}"${dash}><title>${escapeXml(`${s.store}, ${s.side}`)}</title></path>`);
    for (const q of pts) {
      const marker = s.side === "baseline" ? `fill="white" stroke="${colour}"` : `fill="${colour}"`;
      out.push(
        `<circle cx="${x(q.size).toFixed(1)}" cy="${y(q.us).toFixed(1)}" r="3" ${marker}><title>${escapeXml(`${s.store} ${s.side} at ${q.size}: ${q.us.toFixed(2)} µs`)}</title></circle>`,
      );
    }
  }
  return out.join("\n");
}

/**
 * An SVG document with the panels side by side and a legend below.
 *
 * @example
 * writeFileSync("docs/benchmark-scaling.svg", scalingSvg([{ title: "get", series }], "caption"));
 */
export function scalingSvg(panels: readonly PlotPanel[], caption: string): string {
  const stores = [...new Set(panels.flatMap((p) => p.series.map((s) => s.store)))];
  const colours = new Map(stores.map((s, i) => [s, COLOURS[i % COLOURS.length]!]));
  const legendRows = Math.ceil(stores.length / 3) + 1;
  const width = W * panels.length;
  const height = H + 22 * legendRows + 30;
  const legend: string[] = [];
  stores.forEach((store, i) => {
    const lx = 20 + (i % 3) * 300;
    const ly = H + 18 + Math.floor(i / 3) * 22;
    legend.push(`<line x1="${lx}" x2="${lx + 28}" y1="${ly}" y2="${ly}" stroke="${colours.get(store)}" stroke-width="2.5"/>`);
    legend.push(`<text x="${lx + 36}" y="${ly + 4}">${escapeXml(store)}</text>`);
  });
  const ky = H + 18 + Math.ceil(stores.length / 3) * 22;
  legend.push(`<line x1="20" x2="48" y1="${ky}" y2="${ky}" stroke="#333" stroke-width="2.5"/><text x="56" y="${ky + 4}">ours (registry call)</text>`);
  legend.push(
    `<line x1="320" x2="348" y1="${ky}" y2="${ky}" stroke="#333" stroke-dasharray="5 4" stroke-width="1.5"/><text x="356" y="${ky + 4}">baseline (driver calls)</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels.map((p, i) => panel(p, i * W, colours)),
    ...legend,
    `<text x="20" y="${height - 10}" fill="#555">${escapeXml(caption)}</text>`,
    `</svg>`,
    "",
  ].join("\n");
}
