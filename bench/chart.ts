// A small hand-written SVG chart (no native canvas dependency): end-to-end latency percentiles and
// API calls per 1,000 events, per strategy.
interface R {
  strategy: string;
  store: string;
  phases: { latencyMs: { p50: number; p95: number; p99: number } }[];
  apiCallsPer1000: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function renderChart(results: R[], cfg: { phaseB: { rate: number } }): string {
  const W = 900,
    H = 360,
    pad = 60;
  const half = (W - pad * 3) / 2;
  const colors = ['#0b6bcb', '#2e844a', '#ba0517', '#8a5cd1'];
  const bars = (title: string, x0: number, values: { label: string; v: number[] }[], series: string[], unit: string) => {
    const max = Math.max(1, ...values.flatMap((x) => x.v.filter(Number.isFinite)));
    const gw = half / values.length;
    const bw = (gw - 20) / series.length;
    let s = `<text x="${x0}" y="30" font-size="15" font-weight="bold">${esc(title)}</text>`;
    s += `<line x1="${x0}" y1="${H - pad}" x2="${x0 + half}" y2="${H - pad}" stroke="#444"/>`;
    values.forEach((g, gi) => {
      g.v.forEach((v, si) => {
        const h = Number.isFinite(v) ? ((H - pad * 2) * v) / max : 0;
        const x = x0 + gi * gw + 10 + si * bw;
        s += `<rect x="${x.toFixed(1)}" y="${(H - pad - h).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${colors[si % colors.length]}"/>`;
        s += `<text x="${(x + bw / 2).toFixed(1)}" y="${(H - pad - h - 4).toFixed(1)}" font-size="10" text-anchor="middle">${Number.isFinite(v) ? Math.round(v) : 'n/a'}</text>`;
      });
      s += `<text x="${(x0 + gi * gw + gw / 2).toFixed(1)}" y="${H - pad + 16}" font-size="11" text-anchor="middle">${esc(g.label)}</text>`;
    });
    series.forEach((name, si) => {
      s += `<rect x="${x0 + si * 90}" y="${H - 22}" width="10" height="10" fill="${colors[si % colors.length]}"/><text x="${x0 + si * 90 + 14}" y="${H - 13}" font-size="11">${esc(name)} ${esc(unit)}</text>`;
    });
    return s;
  };
  const label = (r: R) => `${r.strategy.replace('batched ', '').replace('per-event ', '')} (${r.store})`;
  const lat = results.map((r) => ({ label: label(r), v: [r.phases[1].latencyMs.p50, r.phases[1].latencyMs.p95, r.phases[1].latencyMs.p99] }));
  const api = results.map((r) => ({ label: label(r), v: [r.apiCallsPer1000] }));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>
${bars(`End-to-end latency at ${cfg.phaseB.rate} events/s (ms)`, pad, lat, ['p50', 'p95', 'p99'], '')}
${bars('Salesforce API calls per 1,000 events', pad * 2 + half, api, ['calls'], '')}
</svg>\n`;
}
