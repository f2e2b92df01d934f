/**
 * A row of the demo's results table (each section returns some), and the plain ok/FAIL lines a
 * section prints when it is run on its own.
 */
export interface ResultRow {
  problem: string;
  ours: string;
  known: string;
  err: number;
  tol: number;
}

/** One line per row: ok or FAIL (err ≤ tol), ours vs known. */
export function printRows(rows: ResultRow[]): void {
  for (const r of rows) console.log(`${r.err <= r.tol ? 'ok  ' : 'FAIL'} ${r.problem}: ${r.ours} vs ${r.known} (err ${r.err.toFixed(3)}, tol ${r.tol.toFixed(3)})`);
}
