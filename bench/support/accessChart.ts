import escapeHtml from 'escape-html';

// The figures of bench/access.ts as a hand-written SVG (bars of checks/s and p99,
// floor vs project, per tenant count) and as a markdown table.

export interface SideFigures {
  checksPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** checks/s of each measured round, to show the spread. */
  roundRates: number[];
  /** CPU time of the server process per check answered, over the measured windows. */
  serverCpuMsPerCheck: number;
  /** That CPU time over the measured time: how many cores the server kept busy. */
  serverCores: number;
}

export interface ComparisonRow {
  tenants: number;
  kind: 'single' | 'batch';
  floor: SideFigures;
  project: SideFigures;
}

export const tenantsLabel = (n: number) => (n >= 1_000_000 && n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));
export const rowLabel = (row: ComparisonRow) => `N=${tenantsLabel(row.tenants)} ${row.kind}`;
export const throughputRatio = (row: ComparisonRow) => row.project.checksPerSecond / row.floor.checksPerSecond;
export const p99Ratio = (row: ComparisonRow) => row.project.p99Ms / row.floor.p99Ms;

const COLORS = { floor: '#8a8f98', project: '#2563eb' };

function fmt(value: number, digits: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 1000 ? Math.round(value).toLocaleString('en-US') : value.toFixed(digits);
}

function panel(rows: ComparisonRow[], x0: number, width: number, title: string, value: (s: SideFigures) => number, digits: number, unit: string): string {
  const top = 70;
  const height = 240;
  const bottom = top + height;
  const max = Math.max(...rows.flatMap((r) => [value(r.floor), value(r.project)]).filter(Number.isFinite), 1) * 1.18;
  const group = width / rows.length;
  const bar = Math.min(56, group / 3);
  const parts = [
    `<text x="${x0 + width / 2}" y="${top - 22}" text-anchor="middle" font-weight="bold">${escapeHtml(title)}</text>`,
    `<line x1="${x0}" y1="${bottom}" x2="${x0 + width}" y2="${bottom}" stroke="#333"/>`,
  ];
  rows.forEach((row, i) => {
    const center = x0 + group * i + group / 2;
    (['floor', 'project'] as const).forEach((side, j) => {
      const v = value(row[side]);
      const h = Number.isFinite(v) ? (v / max) * height : 0;
      const x = center - bar - 2 + j * (bar + 4);
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${bar.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[side]}"/>`,
        `<text x="${(x + bar / 2).toFixed(1)}" y="${(bottom - h - 5).toFixed(1)}" text-anchor="middle" font-size="11">${fmt(v, digits)}</text>`,
      );
    });
    parts.push(`<text x="${center.toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${escapeHtml(rowLabel(row))}</text>`);
  });
  parts.push(`<text x="${x0}" y="${top - 6}" font-size="11" fill="#555">${escapeHtml(unit)}</text>`);
  return parts.join('\n  ');
}

export function accessChartSvg(rows: ComparisonRow[], caption: string): string {
  const width = 960;
  const height = 400;
  const legend = (['floor', 'project'] as const)
    .map((side, i) => `<rect x="${20 + i * 150}" y="${height - 38}" width="14" height="14" fill="${COLORS[side]}"/><text x="${40 + i * 150}" y="${height - 26}">${side === 'floor' ? 'floor (node:http + pg)' : 'project (compiled API)'}</text>`)
    .join('\n  ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">
  <rect width="100%" height="100%" fill="#fff"/>
  <text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">GET /api/v1/access: floor vs project</text>
  ${panel(rows, 40, 420, 'checks per second (higher is better)', (s) => s.checksPerSecond, 0, 'checks/s')}
  ${panel(rows, 520, 420, 'p99 latency (lower is better)', (s) => s.p99Ms, 1, 'ms')}
  ${legend}
  <text x="${width - 20}" y="${height - 26}" text-anchor="end" font-size="11" fill="#555">${escapeHtml(caption)}</text>
</svg>
`;
}

export function accessMarkdown(rows: ComparisonRow[], notes: string[]): string {
  const lines = [
    '| N tenants | checks | floor checks/s | floor p50 / p99 (ms) | project checks/s | project p50 / p99 (ms) | throughput ratio | p99 ratio | errors floor / project |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.tenants.toLocaleString('en-US')} | ${r.kind} | ${fmt(r.floor.checksPerSecond, 0)} | ${fmt(r.floor.p50Ms, 1)} / ${fmt(r.floor.p99Ms, 1)} | ` +
        `${fmt(r.project.checksPerSecond, 0)} | ${fmt(r.project.p50Ms, 1)} / ${fmt(r.project.p99Ms, 1)} | ${throughputRatio(r).toFixed(2)} | ${p99Ratio(r).toFixed(2)} | ${r.floor.errors} / ${r.project.errors} |`,
    ),
  ];
  return `${lines.join('\n')}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
}
