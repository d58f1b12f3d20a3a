import escapeHtml from 'escape-html';

// Small hand-written SVG charts for the onboarding bench (as accessChart.ts
// does for the access bench): grouped horizontal bars, and lines over x.

const PALETTE = ['#2563eb', '#f59e0b', '#10b981', '#8a8f98', '#ef4444', '#7c3aed'];
const fmt = (v: number) => (!Number.isFinite(v) ? 'n/a' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(v >= 10 ? 1 : 2));

export interface BarGroup {
  label: string;
  /** One value per series (NaN: no bar). */
  values: number[];
}

/** Horizontal bars, one group per row, one bar per series in each group. */
export function barChartSvg(title: string, unit: string, series: string[], groups: BarGroup[], caption: string): string {
  const width = 960;
  const labelWidth = 300;
  const bar = 14;
  const groupHeight = series.length * (bar + 2) + 12;
  const top = 50;
  const height = top + groups.length * groupHeight + 60;
  const plot = width - labelWidth - 90;
  const max = Math.max(1e-9, ...groups.flatMap((g) => g.values).filter(Number.isFinite));
  const parts: string[] = [];
  groups.forEach((g, gi) => {
    const y0 = top + gi * groupHeight;
    parts.push(`<text x="${labelWidth - 8}" y="${y0 + groupHeight / 2}" text-anchor="end">${escapeHtml(g.label)}</text>`);
    g.values.forEach((v, si) => {
      const w = Number.isFinite(v) ? (v / max) * plot : 0;
      const y = y0 + si * (bar + 2);
      parts.push(
        `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${PALETTE[si % PALETTE.length]}"/>`,
        `<text x="${(labelWidth + w + 4).toFixed(1)}" y="${y + bar - 3}" font-size="11">${fmt(v)}</text>`,
      );
    });
  });
  const legend = series.map((name, i) => `<rect x="${20 + i * 190}" y="${height - 34}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/><text x="${36 + i * 190}" y="${height - 24}">${escapeHtml(name)}</text>`);
  return svg(width, height, title, [
    `<text x="${labelWidth}" y="${top - 8}" font-size="11" fill="#555">${escapeHtml(unit)}</text>`,
    `<line x1="${labelWidth}" y1="${top - 4}" x2="${labelWidth}" y2="${top + groups.length * groupHeight}" stroke="#333"/>`,
    ...parts,
    ...legend,
    `<text x="${width - 20}" y="${height - 8}" text-anchor="end" font-size="11" fill="#555">${escapeHtml(caption)}</text>`,
  ]);
}

export interface Line {
  name: string;
  points: [x: number, y: number][];
}

/** Lines over a numeric x axis (arrival rate), y from 0. */
export function lineChartSvg(title: string, xUnit: string, yUnit: string, lines: Line[], caption: string): string {
  const width = 960;
  const height = 420;
  const left = 70;
  const right = width - 30;
  const top = 50;
  const bottom = height - 80;
  const xs = lines.flatMap((l) => l.points.map(([x]) => x));
  const ys = lines.flatMap((l) => l.points.map(([, y]) => y)).filter(Number.isFinite);
  const xMax = Math.max(1e-9, ...xs);
  const yMax = Math.max(1e-9, ...ys) * 1.1;
  const px = (x: number) => left + (x / xMax) * (right - left);
  const py = (y: number) => bottom - (y / yMax) * (bottom - top);
  const parts = [
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`,
    `<text x="${(left + right) / 2}" y="${bottom + 36}" text-anchor="middle">${escapeHtml(xUnit)}</text>`,
    `<text x="${left - 8}" y="${top - 10}" font-size="11" fill="#555">${escapeHtml(yUnit)}</text>`,
  ];
  for (let i = 0; i <= 4; i += 1) {
    const y = (yMax * i) / 4;
    parts.push(`<text x="${left - 6}" y="${py(y) + 4}" text-anchor="end" font-size="11">${fmt(y)}</text>`);
  }
  for (const x of [...new Set(xs)]) parts.push(`<text x="${px(x)}" y="${bottom + 16}" text-anchor="middle" font-size="11">${fmt(x)}</text>`);
  lines.forEach((line, i) => {
    const color = PALETTE[i % PALETTE.length] ?? '#000';
    const pts = line.points.filter(([, y]) => Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of pts) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"/>`);
    parts.push(`<rect x="${20 + i * 200}" y="${height - 34}" width="12" height="12" fill="${color}"/><text x="${36 + i * 200}" y="${height - 24}">${escapeHtml(line.name)}</text>`);
  });
  parts.push(`<text x="${width - 20}" y="${height - 8}" text-anchor="end" font-size="11" fill="#555">${escapeHtml(caption)}</text>`);
  return svg(width, height, title, parts);
}

function svg(width: number, height: number, title: string, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">
  <rect width="100%" height="100%" fill="#fff"/>
  <text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeHtml(title)}</text>
  ${parts.join('\n  ')}
</svg>
`;
}
