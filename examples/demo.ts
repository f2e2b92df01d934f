/**
 * bayestape engine showcase (`npm run demo`, or `npx tsx examples/demo.ts [--out DIR]`).
 *
 *  (a) Rosenbrock: damped Newton from bt.hessian + bt.linalg.solve vs gradient descent
 *  (b) Jacobian of a [2,3] -> [4] function: jacfwd / jacrev, chunked and all at once, vs finite differences
 *  (c) Hessian-vector product in 1000 dimensions without forming the Hessian
 *  (d) Known answers: Bayesian linear regression (Newton + Laplace) and a Gaussian MLE by gradient ascent
 *  (e) Sampling: 1e5 standard normals from a fixed key
 *  (f) SG-MCMC: SGHMC on Bayesian logistic regression; (g) VI for simulators
 *  (h) nested sampling (Gaussian shells, corner plot) and evidence maximisation (test_basic, log Z trace)
 *  (i) GMMVI: SAMTRON on a 2-D three-mode mixture (contours with the fitted components, −ELBO curve)
 *  (j) IMNN: SimulatorIMNN on the Gaussian mean/variance problem (det F history against 50, posterior marginals)
 *  (k) WebGPU (when an adapter is present): the same PRNG stream and the logistic-regression MAP on the GPU
 *
 * Writes SVG plots into demo-output/ (or --out DIR) and ends with a results table. Exits 1 if
 * any known answer is missed.
 */
import { runSgmcmcDemo } from './sgmcmc.js';
import { runViDemo } from './vi.js';
import { runNsDemo } from './nested-sampling.js';
import { runGmmviDemo } from './gmmvi.js';
import { runWebgpuDemo } from './webgpu.js';
import { runImnnDemo } from './imnn.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as bt from '../src/index.js';
import { Plot, ramp } from './svg.js';

type T = bt.Tensor;

// ---------------------------------------------------------------------------------------------
// command line, printing helpers, results table

function parseArgs(argv: string[]): { out: string } {
  const usage = 'usage: tsx examples/demo.ts [--out DIR]   (default DIR: demo-output)';
  const fail = (msg: string): never => {
    console.error(`demo: ${msg}\n${usage}`);
    process.exit(2);
  };
  let out = 'demo-output';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out') out = argv[++i] ?? fail('--out needs a directory');
    else if (a.startsWith('--out=')) out = a.slice(6) || fail('--out needs a directory');
    else if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    } else fail(`unknown argument '${a}'`);
  }
  return { out: resolve(out) };
}

const { out: OUT } = parseArgs(process.argv.slice(2));
mkdirSync(OUT, { recursive: true });

const e = (v: number, d = 3) => (Number.isFinite(v) ? v.toExponential(d) : String(v));
const f6 = (v: number, w = 10) => (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-4 && v !== 0) ? v.toExponential(3) : v.toFixed(6)).padStart(w);
const vec = (v: ArrayLike<number>, w = 10) => `[${Array.from(v, (x) => f6(x, w)).join(',')}]`;
const ms = (t0: number) => `${(performance.now() - t0).toFixed(1)} ms`;
const arr = (t: T) => Array.from(t.dataSync());
const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

function header(s: string): void {
  console.log(`\n${'='.repeat(96)}\n${s}\n${'='.repeat(96)}`);
}

function svg(name: string, plot: Plot): void {
  const path = join(OUT, name);
  writeFileSync(path, plot.toString());
  console.log(`  plot: ${path}`);
}

interface Row {
  problem: string;
  ours: string;
  known: string;
  err: number;
  tol: number;
}
const results: Row[] = [];
function check(problem: string, ours: string, known: string, err: number, tol: number): void {
  results.push({ problem, ours, known, err, tol });
}

const tStart = performance.now();
const tensorsAtStart = bt.memory().numTensors;

// ---------------------------------------------------------------------------------------------
// (a) Rosenbrock: damped Newton vs gradient descent
function sectionA(): void {

  header('(a) Rosenbrock f(x,y) = (1-x)^2 + 100 (y - x^2)^2 from (-1.2, 1): damped Newton vs gradient descent');

  function rosenbrock(p: T): T {
    const x = p.slice([0], [1]);
    const y = p.slice([1], [1]);
    return bt.sum(bt.square(bt.sub(1, x)).add(bt.square(y.sub(x.square())).mul(100)));
  }
  const rosenVG = bt.valueAndGrad(rosenbrock);
  const rosenH = bt.hessian(rosenbrock);
  const rosenF = (p: number[]) => bt.tidy(() => rosenbrock(bt.tensor(p)).item());

  interface Iterate {
    x: number[];
    f: number;
    g: number[];
  }
  function evalVG(x: number[]): Iterate {
    return bt.tidy(() => {
      const [f, g] = rosenVG(bt.tensor(x)) as [T, T];
      return { x, f: f.item(), g: arr(g) };
    });
  }

  /**
   * Newton with Levenberg damping and an Armijo backtracking line search: solve (H + mu I) p = -g,
   * raising mu from 0 until H + mu I is positive definite (bt.linalg.cholesky succeeds; far from
   * the minimum H can be indefinite, and then the Newton step heads for a saddle or a maximum)
   * and p is a descent direction, then halve the step until f decreases enough. Each iteration is
   * one bt.hessian, one bt.valueAndGrad and one or more bt.linalg.solve calls.
   */
  function dampedNewton(x0: number[], tol: number, quiet = false, maxIter = 100): { path: Iterate[]; solves: number; dampedSteps: number } {
    const path: Iterate[] = [];
    let it = evalVG(x0);
    let solves = 0;
    let dampedSteps = 0;
    if (!quiet) console.log(`  ${'k'.padStart(3)}  ${'x'.padStart(12)} ${'y'.padStart(12)}  ${'f'.padStart(11)}  ${'|grad|'.padStart(10)}  step  mu`);
    for (let k = 0; k <= maxIter; k++) {
      path.push(it);
      const gnorm = norm(it.g);
      const row = (t: string, mu: string) =>
        quiet ||
        console.log(`  ${String(k).padStart(3)}  ${it.x.map((v) => v.toFixed(9).padStart(12)).join(' ')}  ${e(it.f, 4).padStart(11)}  ${e(gnorm, 3).padStart(10)}  ${t}  ${mu}`);
      if (gnorm < tol) {
        row('   -', '-');
        break;
      }
      const step = bt.tidy(() => {
        const x = bt.tensor(it.x);
        const H = rosenH(x);
        const g = bt.tensor(it.g);
        const scale = Math.max(...arr(bt.abs(bt.diagonal(H))), 1e-12);
        let mu = 0;
        for (;;) {
          const A = mu === 0 ? H : H.add(bt.eye(2).mul(mu));
          let pd = true;
          try {
            bt.linalg.cholesky(A);
          } catch (err) {
            if (!(err instanceof bt.NumericalError)) throw err;
            pd = false;
          }
          if (pd) {
            solves++;
            const p = arr(bt.linalg.solve(A, g.neg()));
            const slope = p[0]! * it.g[0]! + p[1]! * it.g[1]!;
            if (p.every(Number.isFinite) && slope < -1e-12 * norm(p) * gnorm) return { p, slope, mu };
          }
          mu = mu === 0 ? 1e-3 * scale : mu * 4; // Levenberg: move towards a scaled gradient step
        }
      });
      if (step.mu > 0) dampedSteps++;
      let t = 1;
      let next = it.x.map((v, i) => v + t * step.p[i]!);
      let fNext = rosenF(next);
      while (fNext > it.f + 1e-4 * t * step.slope && t > 1e-10) {
        t /= 2;
        next = it.x.map((v, i) => v + t * step.p[i]!);
        fNext = rosenF(next);
      }
      row(t.toFixed(3), step.mu === 0 ? '0' : e(step.mu, 1));
      it = evalVG(next);
    }
    return { path, solves, dampedSteps };
  }

  /** Gradient descent with a backtracking line search (the step grows again after each success). */
  function gradientDescent(x0: number[], tol: number, maxIter: number): { path: Iterate[]; iters: number; hit: Map<number, number>; gnorms: number[] } {
    const path: Iterate[] = [];
    const gnorms: number[] = [];
    const milestones = [1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8, 1e-10];
    const hit = new Map<number, number>();
    let it = evalVG(x0);
    let t = 1e-3;
    let k = 0;
    for (; k < maxIter; k++) {
      if (k % 25 === 0) path.push(it);
      const gn = norm(it.g);
      gnorms.push(gn);
      for (const m of milestones) if (gn < m && !hit.has(m)) hit.set(m, k);
      if (gn < tol) break;
      const gg = gn * gn;
      t *= 2;
      let next = it.x.map((v, i) => v - t * it.g[i]!);
      let fNext = rosenF(next);
      while (fNext > it.f - 1e-4 * t * gg) {
        t /= 2;
        next = it.x.map((v, i) => v - t * it.g[i]!);
        fNext = rosenF(next);
      }
      it = evalVG(next);
    }
    path.push(it);
    return { path, iters: k, hit, gnorms };
  }

  let t0 = performance.now();
  const newton = dampedNewton([-1.2, 1], 1e-10);
  const nIter = newton.path.length - 1;
  const xStar = newton.path[nIter]!.x;
  console.log(
    `  damped Newton: ${nIter} iterations (${newton.solves} solves, ${newton.dampedSteps} needed damping), ` +
      `x* = (${xStar.map((v) => v.toPrecision(15)).join(', ')}), ${ms(t0)}`,
  );
  t0 = performance.now();
  const GD_MAX = 12000;
  const gd = gradientDescent([-1.2, 1], 1e-4, GD_MAX);
  const gdEnd = gd.path[gd.path.length - 1]!;
  const newtonHit = (m: number) => newton.path.findIndex((p) => norm(p.g) < m);
  console.log(`  gradient descent (backtracking): ${gd.iters} iterations${gd.iters >= GD_MAX ? ' (cap)' : ''}, ended at (${gdEnd.x.map((v) => v.toFixed(6)).join(', ')}), |grad| = ${e(norm(gdEnd.g))}, ${ms(t0)}`);
  console.log('  iterations to reach |grad| < tol:');
  console.log(`    ${'tol'.padEnd(8)} ${'Newton'.padStart(7)} ${'GD'.padStart(9)}`);
  for (const m of [1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-10]) {
    const g = gd.hit.get(m);
    console.log(`    ${e(m, 0).padEnd(8)} ${String(newtonHit(m)).padStart(7)} ${(g === undefined ? `>${gd.iters}` : String(g)).padStart(9)}`);
  }
  check('Rosenbrock argmin (Newton)', `(${xStar.map((v) => v.toFixed(10)).join(', ')})`, '(1, 1)', Math.max(Math.abs(xStar[0]! - 1), Math.abs(xStar[1]! - 1)), 1e-8);
  check('Rosenbrock |grad| at end', e(norm(newton.path[nIter]!.g)), '< 1e-10', norm(newton.path[nIter]!.g), 1e-10);
  // a start where the Hessian is indefinite: the undamped Newton direction is not a descent
  // direction there, and the Levenberg damping has to step in
  const start2 = [0.5, 2];
  const Hdet = bt.tidy(() => bt.linalg.det(rosenH(bt.tensor(start2))).item());
  t0 = performance.now();
  const newton2 = dampedNewton(start2, 1e-10, true);
  const n2 = newton2.path.length - 1;
  const x2 = newton2.path[n2]!.x;
  console.log(
    `  from (${start2.join(', ')}) (det H = ${Hdet.toFixed(0)} < 0: indefinite): ${n2} iterations, ${newton2.dampedSteps} damped, ` +
      `x* = (${x2.map((v) => v.toPrecision(15)).join(', ')}), |grad| = ${e(norm(newton2.path[n2]!.g))}, ${ms(t0)}`,
  );
  check('Rosenbrock from (0.5, 2), indefinite H', `(${x2.map((v) => v.toFixed(10)).join(', ')})`, '(1, 1)', Math.max(Math.abs(x2[0]! - 1), Math.abs(x2[1]! - 1), norm(newton2.path[n2]!.g) < 1e-10 ? 0 : 1), 1e-8);

  {
    // contour plot with both paths
    const xr = { min: -2, max: 2 };
    const yr = { min: -1, max: 3 };
    const N = 161;
    const xs = Array.from({ length: N }, (_, i) => xr.min + ((xr.max - xr.min) * i) / (N - 1));
    const ys = Array.from({ length: N }, (_, j) => yr.min + ((yr.max - yr.min) * j) / (N - 1));
    // the grid values come from the engine too: one batched evaluation of f with vmap
    const z = bt.tidy(() => {
      const pts: number[] = [];
      for (const y of ys) for (const x of xs) pts.push(x, y);
      const vals = bt.vmap(rosenbrock)(bt.tensor(new Float64Array(pts), { shape: [N * N, 2] })).dataSync();
      return ys.map((_, j) => Array.from(vals.subarray(j * N, (j + 1) * N), (v) => Math.log10(1 + v)));
    });
    const levels = Array.from({ length: 14 }, (_, k) => 0.1 + k * 0.25);
    const p = new Plot({ title: 'Rosenbrock: damped Newton vs gradient descent', x: xr, y: yr, xLabel: 'x', yLabel: 'y', width: 720, height: 640, equalAspect: true });
    p.contours(xs, ys, z, levels, (_l, k) => ramp(k, levels.length));
    p.line(gd.path.map((q) => q.x as [number, number]), { color: '#1f77b4', width: 1.5, label: `gradient descent (${gd.iters} it.)` });
    p.line(newton.path.map((q) => q.x as [number, number]), { color: '#d62728', width: 2, label: `damped Newton (${nIter} it.)` });
    p.dots(newton.path.map((q) => q.x as [number, number]), { color: '#d62728', r: 3 });
    p.line(newton2.path.map((q) => q.x as [number, number]), { color: '#ff7f0e', width: 2, dash: '5 3', label: `damped Newton from (0.5, 2) (${n2} it.)` });
    p.dots(newton2.path.map((q) => q.x as [number, number]), { color: '#ff7f0e', r: 2.5 });
    p.dots([[-1.2, 1], [0.5, 2]], { color: '#000', r: 4, label: 'starts' });
    p.dots([[1, 1]], { color: '#2ca02c', r: 5, label: 'minimum (1, 1)' });
    p.text(-1.95, 2.85, 'contours: f = 0.01, 0.03, 0.1, ... , 3e3', { size: 11, color: '#555' });
    svg('rosenbrock.svg', p);
  }
  {
    const nG = newton.path.map((q, k) => [k, Math.log10(Math.max(norm(q.g), 1e-17))] as [number, number]);
    const gG = gd.gnorms.map((g, k) => [k, Math.log10(g)] as [number, number]).filter((_, k) => k % 10 === 0 || k === gd.gnorms.length - 1);
    const p = new Plot({ title: 'Rosenbrock: convergence (log10 |grad| vs iteration, log-spaced x)', x: { min: 0, max: Math.log10(gd.iters + 1) }, y: { min: -17, max: 3 }, xLabel: 'log10(1 + iteration)', yLabel: 'log10 |grad f|', width: 640, height: 400 });
    const lx = (pts: [number, number][]) => pts.map(([k, v]) => [Math.log10(1 + k), v] as [number, number]);
    p.line([[0, -10], [Math.log10(gd.iters + 1), -10]], { color: '#999', dash: '4 3', width: 1, label: 'tolerance 1e-10' });
    p.line(lx(gG), { color: '#1f77b4', width: 2, label: 'gradient descent' });
    p.line(lx(nG), { color: '#d62728', width: 2, label: 'damped Newton' });
    p.dots(lx(nG), { color: '#d62728', r: 2.5 });
    svg('rosenbrock-convergence.svg', p);
  }
}

// ---------------------------------------------------------------------------------------------
// (b) Jacobian of a non-square function, both modes
function sectionB(): void {

  header('(b) Jacobian of f: R^[2,3] -> R^[4] by jacfwd and jacrev (chunkSize 1, 4, all at once) vs finite differences');

  const C = bt.tensor([
    [0.3, -0.2],
    [0.5, 0.1],
  ]);
  function fJac(X: T): T {
    const r0 = X.slice([0, 0], [1, 3]).reshape([3]);
    const r1 = X.slice([1, 0], [1, 3]).reshape([3]);
    return bt.stack([
      bt.sum(bt.sin(r0).mul(r1)), // sum_j sin(X0j) X1j
      bt.logsumexp(X), // log sum exp over all entries
      bt.sqrt(bt.sum(bt.square(X)).add(1)), // sqrt(1 + |X|^2)
      bt.sum(bt.matmul(X, X.T).mul(C)).add(bt.tanh(X).mean()), // <X Xᵀ, C> + mean tanh X
    ]);
  }
  const X0 = bt.tensor([
    [0.2, -0.7, 1.1],
    [0.9, 0.4, -0.3],
  ]);
  console.log(`  X = ${JSON.stringify(X0.toArray())},  f(X) = ${vec(bt.tidy(() => arr(fJac(X0))), 9)}`);

  const variants: [string, (x: T) => T][] = [
    ['jacfwd chunk 1', bt.jacfwd(fJac, { chunkSize: 1 })],
    ['jacfwd chunk 4', bt.jacfwd(fJac, { chunkSize: 4 })],
    ['jacfwd all', bt.jacfwd(fJac)],
    ['jacrev chunk 1', bt.jacrev(fJac, { chunkSize: 1 })],
    ['jacrev all', bt.jacrev(fJac)],
  ];
  const jacs = variants.map(([name, jf]) => {
    const t1 = performance.now();
    const J = bt.tidy(() => jf(X0));
    const dt = performance.now() - t1;
    const out = { name, shape: J.shape, data: J.dataSync(), dt };
    J.dispose();
    return out;
  });
  // central finite differences, in plain arithmetic on host copies of f
  const fHost = (x: Float64Array) => bt.tidy(() => fJac(bt.tensor(x, { shape: [2, 3] })).dataSync());
  const x0h = X0.dataSync() as Float64Array;
  const Jfd = new Float64Array(24);
  const hFD = 1e-6;
  for (let j = 0; j < 6; j++) {
    const xp = x0h.slice();
    const xm = x0h.slice();
    xp[j]! += hFD;
    xm[j]! -= hFD;
    const fp = fHost(xp);
    const fm = fHost(xm);
    for (let i = 0; i < 4; i++) Jfd[i * 6 + j] = (fp[i]! - fm[i]!) / (2 * hFD);
  }
  const fwd = jacs[2]!;
  const rev = jacs[4]!;
  console.log(`  result shape ${JSON.stringify(fwd.shape)} (out ++ in); rows are outputs, columns X[0,0..2], X[1,0..2]`);
  console.log(`  ${'jacfwd (all at once)'.padEnd(62)}   ${'jacrev (all at once)'}`);
  for (let i = 0; i < 4; i++) {
    console.log(`  y${i} ${vec(fwd.data.subarray(i * 6, i * 6 + 6), 9)}   ${vec(rev.data.subarray(i * 6, i * 6 + 6), 9)}`);
  }
  console.log(`  ${'variant'.padEnd(16)} ${'time'.padStart(9)}  ${'max|J - jacrev all|'.padStart(20)}  ${'max|J - FD|'.padStart(12)}`);
  for (const j of jacs) {
    console.log(`  ${j.name.padEnd(16)} ${`${j.dt.toFixed(1)} ms`.padStart(9)}  ${e(maxAbsDiff(j.data, rev.data)).padStart(20)}  ${e(maxAbsDiff(j.data, Jfd)).padStart(12)}`);
  }
  const modeDiff = Math.max(...jacs.map((j) => maxAbsDiff(j.data, rev.data)));
  const fdDiff = Math.max(...jacs.map((j) => maxAbsDiff(j.data, Jfd)));
  check('Jacobian: jacfwd vs jacrev (all chunkings)', e(modeDiff), '0 (same numbers)', modeDiff, 1e-12);
  check('Jacobian vs central FD (h=1e-6)', e(fdDiff), 'FD, O(h^2)+roundoff', fdDiff, 1e-7);
}

// ---------------------------------------------------------------------------------------------
// (c) Hessian-vector product in 1000 dimensions
function sectionC(): void {

  const NH = 1000;
  header(`(c) Hessian-vector product in ${NH} dimensions, never forming the ${NH}x${NH} Hessian`);
  console.log('  f(x) = sum x^4/4 + (sum x)^2/2 + sum_i softplus(x_i - x_{i+1})  (dense Hessian: the (sum x)^2 term couples every pair)');

  function fBig(x: T): T {
    const d = x.slice([0], [NH - 1]).sub(x.slice([1], [NH - 1]));
    return bt.sum(x.square().square()).div(4).add(bt.square(bt.sum(x)).div(2)).add(bt.sum(bt.softplus(d)));
  }
  const keysHv = bt.random.split(bt.random.key(7), 2);
  const xBig = bt.random.normal(keysHv.slice([0, 0], [1, 2]).reshape([2]), [NH]);
  const vBig = bt.random.normal(keysHv.slice([1, 0], [1, 2]).reshape([2]), [NH]);
  keysHv.dispose();

  // the exact H·v, worked out by hand for this f (plain JS, no autodiff)
  function analyticHv(x: ArrayLike<number>, v: ArrayLike<number>): Float64Array {
    const out = new Float64Array(NH);
    let sv = 0;
    for (let i = 0; i < NH; i++) sv += v[i]!;
    for (let i = 0; i < NH; i++) out[i] = 3 * x[i]! * x[i]! * v[i]! + sv;
    for (let i = 0; i + 1 < NH; i++) {
      const s = 1 / (1 + Math.exp(-(x[i]! - x[i + 1]!)));
      const w = s * (1 - s) * (v[i]! - v[i + 1]!);
      out[i]! += w;
      out[i + 1]! -= w;
    }
    return out;
  }

  let t0 = performance.now();
  const hv = bt.tidy(() => bt.hvp(fBig, xBig, vBig).dataSync());
  const tHvp = performance.now() - t0;
  const gBig = bt.grad(fBig);
  t0 = performance.now();
  bt.tidy(() => gBig(xBig).dataSync());
  const tGrad = performance.now() - t0;
  const hvExact = analyticHv(xBig.dataSync(), vBig.dataSync());
  // central difference of the gradient along v
  const epsHv = 1e-5;
  const hvFD = bt.tidy(() => {
    const gp = gBig(xBig.add(vBig.mul(epsHv)));
    const gm = gBig(xBig.sub(vBig.mul(epsHv)));
    return gp.sub(gm).div(2 * epsHv).dataSync();
  });
  const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => maxAbsDiff(a, b) / Math.max(...Array.from(b, Math.abs));
  console.log(`  |Hv| = ${e(norm(hv))};  hvp ${tHvp.toFixed(1)} ms vs one gradient ${tGrad.toFixed(1)} ms (the Hessian would be ${NH * NH} entries, ${(NH * NH * 8) / 1e6} MB)`);
  console.log(`  first entries:  hvp      ${vec(hv.subarray(0, 4), 12)}`);
  console.log(`                  analytic ${vec(hvExact.subarray(0, 4), 12)}`);
  console.log(`                  FD(grad) ${vec(hvFD.subarray(0, 4), 12)}`);
  const hvErrExact = relErr(hv, hvExact);
  const hvErrFD = relErr(hv, hvFD);
  console.log(`  max rel. error vs analytic: ${e(hvErrExact)};  vs central FD of bt.grad (eps=${epsHv}): ${e(hvErrFD)}`);

  // several directions at once: vmap over hvp, checked against one-at-a-time calls
  t0 = performance.now();
  const vs = bt.random.normal(bt.random.key(8), [4, NH]);
  const hvBatch = bt.tidy(() => bt.vmap((v: T) => bt.hvp(fBig, xBig, v))(vs).dataSync());
  const tBatch = performance.now() - t0;
  let batchDiff = 0;
  for (let b = 0; b < 4; b++) {
    const one = bt.tidy(() => bt.hvp(fBig, xBig, vs.slice([b, 0], [1, NH]).reshape([NH])).dataSync());
    batchDiff = Math.max(batchDiff, maxAbsDiff(one, hvBatch.subarray(b * NH, (b + 1) * NH)));
  }
  vs.dispose();
  console.log(`  vmap(hvp) over 4 directions: ${tBatch.toFixed(1)} ms, max |batched - one at a time| = ${e(batchDiff)}`);
  check(`HVP (n=${NH}) vs analytic H·v`, e(hvErrExact), 'rel. error 0', hvErrExact, 1e-12);
  check(`HVP (n=${NH}) vs FD of gradient`, e(hvErrFD), 'rel. error O(eps^2)', hvErrFD, 1e-6);
  check('vmap(hvp) vs hvp one at a time', e(batchDiff), '0', batchDiff, 1e-10);
  xBig.dispose();
  vBig.dispose();
}

// ---------------------------------------------------------------------------------------------
// (d) known answers: Bayesian linear regression (Newton + Laplace), Gaussian MLE (gradient ascent)
function sectionD(): void {

  header('(d1) Bayesian linear regression: posterior mode by Newton, Laplace covariance = H^-1, vs the normal equations');

  const NR = 200;
  const SIGMA = 0.7;
  const TAU = 10;
  const betaTrue = [0.5, -1.2, 2.0];
  const [Xd, yd] = bt.tidy(() => {
    const ks = bt.random.split(bt.random.key(2024), 2);
    const feats = bt.random.normal(ks.slice([0, 0], [1, 2]).reshape([2]), [NR, 2]);
    const X = bt.concat([bt.ones([NR, 1]), feats], 1);
    const noise = bt.random.normal(ks.slice([1, 0], [1, 2]).reshape([2]), [NR]).mul(SIGMA);
    const y = bt.matmul(X, bt.tensor(betaTrue)).add(noise);
    return [X, y];
  });
  /** negative log posterior: |y - X b|^2 / (2 s^2) + |b|^2 / (2 tau^2) (a quadratic: one Newton step is exact) */
  const negLogPost = (b: T) => bt.sum(bt.square(yd.sub(bt.matmul(Xd, b)))).div(2 * SIGMA * SIGMA).add(bt.sum(b.square()).div(2 * TAU * TAU));
  const nlpVG = bt.valueAndGrad(negLogPost);
  const nlpH = bt.hessian(negLogPost);
  let beta = bt.zeros([3]);
  let newtonSteps = 0;
  for (let k = 0; k < 20; k++) {
    const [gn, next] = bt.tidy(() => {
      const [, g] = nlpVG(beta) as [T, T];
      const gnorm = norm(g.dataSync());
      return [gnorm, gnorm < 1e-9 ? null : beta.sub(bt.linalg.solve(nlpH(beta), g))] as const;
    });
    console.log(`  Newton step ${k}: |grad| = ${e(gn)}`);
    if (!next) break;
    beta.dispose();
    beta = next;
    newtonSteps++;
  }
  const laplaceSd = bt.tidy(() => arr(bt.sqrt(bt.diagonal(bt.linalg.inv(nlpH(beta))))));
  const betaOurs = arr(beta);

  // exact answer in plain JS: A = XᵀX/s² + I/tau², b = Xᵀy/s², by Cholesky
  function exactPosterior(): { mean: number[]; sd: number[] } {
    const X = Xd.dataSync();
    const y = yd.dataSync();
    const d = 3;
    const A = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    const b = new Array<number>(d).fill(0);
    for (let n = 0; n < NR; n++) {
      for (let i = 0; i < d; i++) {
        b[i]! += (X[n * d + i]! * y[n]!) / SIGMA ** 2;
        for (let j = 0; j < d; j++) A[i]![j]! += (X[n * d + i]! * X[n * d + j]!) / SIGMA ** 2;
      }
    }
    for (let i = 0; i < d; i++) A[i]![i]! += 1 / TAU ** 2;
    const L = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        let s = A[i]![j]!;
        for (let k = 0; k < j; k++) s -= L[i]![k]! * L[j]![k]!;
        L[i]![j] = i === j ? Math.sqrt(s) : s / L[j]![j]!;
      }
    }
    const solveL = (rhs: number[]) => {
      const z = rhs.slice();
      for (let i = 0; i < d; i++) {
        for (let k = 0; k < i; k++) z[i]! -= L[i]![k]! * z[k]!;
        z[i]! /= L[i]![i]!;
      }
      for (let i = d - 1; i >= 0; i--) {
        for (let k = i + 1; k < d; k++) z[i]! -= L[k]![i]! * z[k]!;
        z[i]! /= L[i]![i]!;
      }
      return z;
    };
    const mean = solveL(b);
    const sd = Array.from({ length: d }, (_, i) => Math.sqrt(solveL(Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)))[i]!));
    return { mean, sd };
  }
  const exact = exactPosterior();
  console.log(`  ${''.padEnd(22)} ${'b0'.padStart(12)} ${'b1'.padStart(12)} ${'b2'.padStart(12)}`);
  console.log(`  ${'true coefficients'.padEnd(22)} ${betaTrue.map((v) => v.toFixed(9).padStart(12)).join(' ')}`);
  console.log(`  ${'posterior mode (ours)'.padEnd(22)} ${betaOurs.map((v) => v.toFixed(9).padStart(12)).join(' ')}`);
  console.log(`  ${'normal equations'.padEnd(22)} ${exact.mean.map((v) => v.toFixed(9).padStart(12)).join(' ')}`);
  console.log(`  ${'Laplace sd (ours)'.padEnd(22)} ${laplaceSd.map((v) => v.toFixed(9).padStart(12)).join(' ')}`);
  console.log(`  ${'exact posterior sd'.padEnd(22)} ${exact.sd.map((v) => v.toFixed(9).padStart(12)).join(' ')}`);
  const modeErr = maxAbsDiff(betaOurs, exact.mean);
  const sdErr = maxAbsDiff(laplaceSd, exact.sd);
  console.log(`  ${newtonSteps} Newton step(s) (the log posterior is quadratic); max |mode error| = ${e(modeErr)}, max |sd error| = ${e(sdErr)}`);
  check('BLR posterior mode (Newton)', `(${betaOurs.map((v) => v.toFixed(6)).join(', ')})`, `(${exact.mean.map((v) => v.toFixed(6)).join(', ')})`, modeErr, 1e-10);
  check('BLR Laplace posterior sd', `(${laplaceSd.map((v) => v.toFixed(6)).join(', ')})`, `(${exact.sd.map((v) => v.toFixed(6)).join(', ')})`, sdErr, 1e-10);
  beta.dispose();

  header('(d2) Maximum likelihood of a 1-D Gaussian by gradient ascent on a pytree {mu, logSigma}');
  const NG = 500;
  const data = bt.tidy(() => bt.random.normal(bt.random.key(11), [NG]).mul(2).add(3));
  interface Params {
    mu: T;
    logSigma: T;
  }
  /** average log-likelihood (up to a constant) */
  const avgLogLik = (p: Params) => {
    const z = data.sub(p.mu).mul(bt.exp(p.logSigma.neg()));
    return bt.mean(z.square()).mul(-0.5).sub(p.logSigma);
  };
  const llVG = bt.valueAndGrad(avgLogLik);
  let params: Params = { mu: bt.tensor(0), logSigma: bt.tensor(0) };
  const LR = 0.5;
  let gaIters = 0;
  const trace: [number, number][] = []; // (iteration, log10 |grad|)
  for (; gaIters < 2000; gaIters++) {
    const [gn, next, ll] = bt.tidy(() => {
      const [v, g] = llVG(params) as [T, Params];
      const gnorm = Math.hypot(g.mu.item(), g.logSigma.item());
      const nxt = bt.tree.map((p: T, gi: T) => p.add(gi.mul(LR)), params, g) as Params;
      return [gnorm, nxt, v.item()] as const;
    });
    trace.push([gaIters, Math.log10(gn)]);
    if (gaIters % 20 === 0 || gn < 1e-10) console.log(`  iter ${String(gaIters).padStart(4)}: mu = ${params.mu.item().toFixed(10)}, sigma = ${Math.exp(params.logSigma.item()).toFixed(10)}, avg loglik = ${ll.toFixed(10)}, |grad| = ${e(gn)}`);
    if (gn < 1e-10) {
      bt.dispose(next);
      break;
    }
    bt.dispose(params);
    params = next;
  }
  const dh = Float64Array.from(data.dataSync());
  const meanExact = dh.reduce((s, x) => s + x, 0) / NG;
  const sdExact = Math.sqrt(dh.reduce((s, x) => s + (x - meanExact) ** 2, 0) / NG);
  const muHat = params.mu.item();
  const sdHat = Math.exp(params.logSigma.item());
  console.log(`  converged in ${gaIters} iterations: mu = ${muHat.toFixed(12)} (sample mean ${meanExact.toFixed(12)}), sigma = ${sdHat.toFixed(12)} (sample sd, ddof 0: ${sdExact.toFixed(12)})`);
  check('Gaussian MLE mu (gradient ascent)', muHat.toFixed(10), `${meanExact.toFixed(10)} (mean)`, Math.abs(muHat - meanExact), 1e-8);
  check('Gaussian MLE sigma (gradient ascent)', sdHat.toFixed(10), `${sdExact.toFixed(10)} (sd)`, Math.abs(sdHat - sdExact), 1e-8);
  bt.dispose(params);
  data.dispose();
  {
    const p = new Plot({ title: 'Gaussian MLE by gradient ascent: linear convergence', x: { min: 0, max: Math.max(10, trace.length) }, y: { min: -11, max: 2 }, xLabel: 'iteration', yLabel: 'log10 |grad|', width: 640, height: 360 });
    p.line([[0, -10], [trace.length, -10]], { color: '#999', dash: '4 3', width: 1, label: 'tolerance 1e-10' });
    p.line(trace, { color: '#1f77b4', width: 2, label: `gradient ascent, lr ${LR}` });
    svg('gaussian-mle.svg', p);
  }
}

// ---------------------------------------------------------------------------------------------
// (e) sampling
function sectionE(): void {

  const NS = 100_000;
  header(`(e) Sampling: ${NS} standard normals from bt.random.key(42) (Threefry-2x32, JAX's streams)`);
  let t0 = performance.now();
  const samples = bt.tidy(() => Float64Array.from(bt.random.normal(bt.random.key(42), [NS]).dataSync()));
  const tSample = performance.now() - t0;
  const sMean = samples.reduce((s, x) => s + x, 0) / NS;
  const sVar = samples.reduce((s, x) => s + (x - sMean) ** 2, 0) / (NS - 1);
  const sSkew = samples.reduce((s, x) => s + ((x - sMean) / Math.sqrt(sVar)) ** 3, 0) / NS;
  const again = bt.tidy(() => bt.random.normal(bt.random.key(42), [NS]).dataSync());
  const sameKey = maxAbsDiff(samples, again) === 0;
  const other = bt.tidy(() => {
    const k2 = bt.random.split(bt.random.key(42), 2).slice([1, 0], [1, 2]).reshape([2]);
    return bt.random.normal(k2, [NS]).dataSync();
  });
  const seMean = 1 / Math.sqrt(NS);
  const seVar = Math.sqrt(2 / (NS - 1));
  console.log(`  drew ${NS} in ${tSample.toFixed(1)} ms; first: ${vec(samples.subarray(0, 4), 11)}`);
  console.log(`  mean     = ${sMean.toFixed(6).padStart(10)}   (truth 0, standard error ${seMean.toFixed(4)}, z = ${(sMean / seMean).toFixed(2)})`);
  console.log(`  variance = ${sVar.toFixed(6).padStart(10)}   (truth 1, standard error ${seVar.toFixed(4)}, z = ${((sVar - 1) / seVar).toFixed(2)})`);
  console.log(`  skewness = ${sSkew.toFixed(6).padStart(10)}   (truth 0, standard error ${Math.sqrt(6 / NS).toFixed(4)})`);
  console.log(`  same key again -> identical draws: ${sameKey};  split key -> different draws: ${maxAbsDiff(samples, other) > 0}`);
  check(`N(0,1) sample mean (n=${NS})`, sMean.toFixed(5), '0', Math.abs(sMean), 5 * seMean);
  check(`N(0,1) sample variance (n=${NS})`, sVar.toFixed(5), '1', Math.abs(sVar - 1), 5 * seVar);
  check('same key reproduces the draws', String(sameKey), 'true', sameKey ? 0 : 1, 0.5);
  {
    const bins = 60;
    const lo = -4.5;
    const hi = 4.5;
    const width = (hi - lo) / bins;
    const counts = new Array<number>(bins).fill(0);
    for (const x of samples) {
      const b = Math.floor((x - lo) / width);
      if (b >= 0 && b < bins) counts[b]!++;
    }
    const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
    const dens = counts.map((c) => c / (NS * width));
    const curve: [number, number][] = Array.from({ length: 301 }, (_, i) => {
      const x = lo + ((hi - lo) * i) / 300;
      return [x, Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI)];
    });
    const p = new Plot({ title: `bt.random.normal(key(42), [${NS}]): histogram vs N(0,1) density`, x: { min: lo, max: hi }, y: { min: 0, max: 0.45 }, xLabel: 'x', yLabel: 'density', width: 720, height: 420 });
    p.bars(edges, dens, { color: '#9ecae1', label: `samples (mean ${sMean.toFixed(4)}, var ${sVar.toFixed(4)})` });
    p.line(curve, { color: '#d62728', width: 2, label: 'N(0, 1) density' });
    svg('normal-samples.svg', p);
  }
}

// ---------------------------------------------------------------------------------------------
// results

// each section says when it starts and how long it took, so a long run is never silent
const sectionTimes: [string, number][] = [];
async function timed(name: string, what: string, fn: () => unknown): Promise<void> {
  const t0 = performance.now();
  console.log(`\n▶ ${name} ${what}: starting at ${((t0 - tStart) / 1000).toFixed(1)} s`);
  await fn();
  const s = (performance.now() - t0) / 1000;
  sectionTimes.push([`${name} ${what}`, s]);
  console.log(`  [${name} done in ${s.toFixed(1)} s; live tensors now ${bt.memory().numTensors - tensorsAtStart}]`);
}

for (const [name, what, section] of [
  ['(a)', 'Rosenbrock', sectionA],
  ['(b)', 'Jacobians', sectionB],
  ['(c)', 'Hessian-vector products', sectionC],
  ['(d)', 'known answers (BLR, Gaussian MLE)', sectionD],
  ['(e)', 'sampling', sectionE],
] as const) {
  // each section runs in a bt.tidy scope, which frees every tensor it made and did not return
  await timed(name, what, () => bt.tidy(section));
}

// (f) the first inference algorithm: SG-MCMC (SGHMC) for Bayesian logistic regression, checked against full-batch HMC
await timed('(f)', 'SG-MCMC', async () => {
  header('(f) SG-MCMC: SGHMC on Bayesian logistic regression (UCI breast cancer), checked against full-batch HMC');
  for (const r of await runSgmcmcDemo(OUT)) results.push(r);
});

// (g) variational inference for simulators (blackbirds' VI): random walk and Brock–Hommes
await timed('(g)', 'VI', async () => {
  header('(g) VI for simulators: random walk and Brock–Hommes (blackbirds)');
  for (const r of await runViDemo(OUT)) results.push(r);
});

// (h) nested sampling with a known evidence, and evidence maximisation (jaxns)
await timed('(h)', 'nested sampling', async () => {
  header('(h) Nested sampling: Gaussian shells (known evidence), evidence maximisation on test_basic (jaxns)');
  for (const r of await runNsDemo(OUT)) results.push(r);
});

// (i) GMMVI (gmmvi's SAMTRON) on a 2-D multimodal target
await timed('(i)', 'GMMVI', async () => {
  header('(i) GMMVI: SAMTRON on a 2-D three-mode mixture (contours, fitted components, −ELBO curve)');
  for (const r of await runGmmviDemo(OUT)) results.push(r);
});

// (j) IMNN (imnn's SimulatorIMNN) on the Gaussian mean/variance problem, with the Gaussian-approximation posterior
await timed('(j)', 'IMNN', async () => {
  header('(j) IMNN: SimulatorIMNN on the Gaussian mean/variance problem (det F against 50, posterior marginals)');
  for (const r of await runImnnDemo(OUT)) results.push(r);
});

// (k) the same code on WebGPU, when an adapter is present
await timed('(k)', 'WebGPU', async () => {
  header('(k) WebGPU: the same code on the GPU (float32)');
  for (const r of await runWebgpuDemo()) results.push(r);
});
const leaked = bt.memory().numTensors - tensorsAtStart;

header('Results');
const cols = ['problem', 'ours', 'known answer', '|error|', 'tolerance', 'pass'];
const rows = results.map((r) => [r.problem, r.ours, r.known, e(r.err, 2), e(r.tol, 0), r.err <= r.tol ? 'yes' : 'NO']);
const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(cols));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
const failed = results.filter((r) => !(r.err <= r.tol));
// bt.memory().numTensors counts tensor objects not yet disposed on any backend; the demo frees
// what it makes, so this counts what it forgot (0 when nothing leaked)
console.log(`\ntensors the demo created and did not free: ${leaked}${leaked === 0 ? ' (every section freed what it made: bt.tidy / bt.dispose)' : ' (still held: the count of undisposed tensors, bt.memory().numTensors)'}`);
console.log(`section times: ${sectionTimes.map(([n, t]) => `${n.split(' ')[0]} ${t.toFixed(1)} s`).join(', ')}`);
console.log(`plots in ${OUT}; total time ${((performance.now() - tStart) / 1000).toFixed(1)} s`);
console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
if (failed.length) {
  console.error(`MISSED known answers: ${failed.map((r) => r.problem).join('; ')}`);
  process.exitCode = 1;
}
