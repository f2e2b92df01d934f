/** Progress lines for the demo's long sections: at most one every few seconds, so a long run is never silent. */

/** Returns tick(done, note?) that prints "  label done/total (rate/s, elapsed, ETA)" when `every` seconds have passed, and always at the end. */
export function ticker(label: string, total: number, unit = 'steps', every = 5): (done: number, note?: string) => void {
  const t0 = performance.now();
  let last = t0;
  return (done, note) => {
    const now = performance.now();
    if (done < total && now - last < every * 1000) return;
    last = now;
    const s = (now - t0) / 1000;
    const rate = done / Math.max(s, 1e-9);
    const eta = done < total ? `, ETA ${((total - done) / Math.max(rate, 1e-9)).toFixed(0)} s` : '';
    console.log(`  … ${label}: ${done}/${total} ${unit} (${rate.toFixed(rate < 10 ? 1 : 0)}/s, ${s.toFixed(1)} s${eta})${note ? `; ${note}` : ''}`);
  };
}
