/** Figures for people to read (progress, summaries, stats), never for programs to parse. */

/** `12,345` */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** `45s`, `12m05s`, `3h07m`, `2d04h` */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, "0")}h`;
}

/** `812 bytes`, `12.3 MiB (12,897,484 bytes)` */
export function byteSize(n: number): string {
  let scaled = n;
  let unit = "";
  for (const u of ["KiB", "MiB", "GiB", "TiB"]) {
    if (scaled < 1024) break;
    scaled /= 1024;
    unit = u;
  }
  return unit === "" ? `${count(n)} bytes` : `${scaled.toFixed(1)} ${unit} (${count(n)} bytes)`;
}

/** `93.5%` of a ratio 0..1 */
export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}
