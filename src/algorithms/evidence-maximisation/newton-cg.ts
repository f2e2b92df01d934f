/**
 * jaxns' trust-region Newton–CG (experimental/solvers/gauss_newton_cg.py, May 2025), on a flat
 * parameter vector held on the host (θ is low-dimensional; f, ∇f and H·v come from the engine):
 * solve (H + (‖g‖/μ) I) δ = −∇f by CG warm-started at 2δ₋₁ − δ₋₂, accept when the actual
 * decrease is more than p_accept of the predicted one, and grow μ (×5) when the quadratic model
 * was trustworthy (0.25 < r < 1.10), else shrink it (×0.1, floor mu_min).
 */

/** The objective as the solver sees it: value, gradient and Hessian-vector product at x. */
export interface FlatObjective {
  /** f(x). */
  f: (x: Float64Array) => number;
  /** [f(x), ∇f(x)]. */
  valueAndGrad: (x: Float64Array) => [number, Float64Array];
  /** H(x)·v. */
  hvp: (x: Float64Array, v: Float64Array) => Float64Array;
}

/** Options of newtonCG (jaxns' defaults). */
export interface NewtonCGOptions {
  /** Newton iterations (default 100). */
  maxiter?: number;
  /** CG iterations per Newton iteration (default 100). */
  maxiterCG?: number;
  /** Stop when ‖∇f‖ ≤ gtol (default 3e-5). */
  gtol?: number;
  /** Accept a step when the actual decrease exceeds pAccept × the predicted one (default 0.01). */
  pAccept?: number;
  /** The trust-region band of the gain ratio, (pLower, pUpper) (defaults 0.25, 1.10). */
  pLower?: number;
  /** See pLower. */
  pUpper?: number;
  /** Initial μ (damping ‖g‖/μ; default 1). */
  muInit?: number;
  /** Smallest μ (default 1e-6). */
  muMin?: number;
  /** μ factor inside the trust band (default 5). */
  muInFactor?: number;
  /** μ factor outside it (default 0.1). */
  muOutFactor?: number;
}

/** What newtonCG returns. */
export interface NewtonCGResult {
  /** The minimiser found. */
  x: Float64Array;
  /** f there. */
  f: number;
  /** Newton iterations taken. */
  iterations: number;
  /** ‖∇f‖ at x. */
  gNorm: number;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const axpy = (a: number, x: Float64Array, y: Float64Array) => y.map((v, i) => v + a * x[i]!);

/** Conjugate gradients for A δ = b from x0 (relative tolerance tol on the residual); stops on non-positive curvature. */
function cg(A: (v: Float64Array) => Float64Array, b: Float64Array, x0: Float64Array, maxiter: number, tol: number): Float64Array {
  let x = x0.slice();
  let r = axpy(-1, A(x), b);
  let p = r.slice();
  let gamma = dot(r, r);
  const atol2 = tol * tol * dot(b, b);
  for (let it = 0; it < maxiter && gamma > atol2; it++) {
    const q = A(p);
    const pq = dot(p, q);
    // an indefinite system (H + λI with small λ): stop here; the trust region rejects a poor step and raises λ
    if (!(pq > 0)) break;
    const alpha = gamma / pq;
    x = axpy(alpha, p, x);
    r = axpy(-alpha, q, r);
    const gNew = dot(r, r);
    p = axpy(gNew / gamma, p, r);
    gamma = gNew;
  }
  return x;
}

/** Minimises obj from x0 (jaxns' newton_cg_solver). */
export function newtonCG(obj: FlatObjective, x0: Float64Array, o: NewtonCGOptions = {}): NewtonCGResult {
  const maxiter = o.maxiter ?? 100;
  const maxiterCG = o.maxiterCG ?? 100;
  const gtol = o.gtol ?? 3e-5;
  const pAccept = o.pAccept ?? 0.01;
  const pLower = o.pLower ?? 0.25;
  const pUpper = o.pUpper ?? 1.1;
  const muMin = o.muMin ?? 1e-6;
  const muIn = o.muInFactor ?? 5;
  const muOut = o.muOutFactor ?? 0.1;
  const n = x0.length;
  let x = x0.slice();
  let [f, grad] = obj.valueAndGrad(x);
  let g = grad.map((v) => -v); // −∇f, the descent direction
  let gNorm = Math.sqrt(dot(g, g));
  // the initial μ: backtrack along −∇f/‖∇f‖ until f decreases
  let mu = o.muInit ?? 1;
  if (n > 0 && gNorm > gtol) {
    const unit = g.map((v) => v / (gNorm + 1e-12));
    while (mu > muMin && !(obj.f(axpy(mu, unit, x)) < f)) mu *= muOut;
  }
  let dPrev: Float64Array = new Float64Array(n);
  let dPrev2: Float64Array = new Float64Array(n);
  let it = 0;
  for (; it < maxiter && gNorm > gtol && Number.isFinite(gNorm); it++) {
    const d0 = dPrev.map((v, i) => 2 * v - dPrev2[i]!);
    const damping = gNorm / mu;
    const xi = x;
    const A = (v: Float64Array) => axpy(damping, v, obj.hvp(xi, v));
    const d = cg(A, g, d0, maxiterCG, 1e-5);
    const xProp = axpy(1, d, x);
    const fProp = obj.f(xProp);
    const quad = 0.5 * dot(d, obj.hvp(x, d));
    const predicted = dot(g, d) - quad;
    const actual = f - fProp;
    const inTrust = predicted > 0 && actual > pLower * predicted && actual < pUpper * predicted;
    mu = Math.max(inTrust ? mu * muIn : mu * muOut, muMin);
    // Δf_actual > p_accept·Δf_pred (a NaN or −∞ proposal fails it)
    const accepted = predicted > 0 && actual > pAccept * predicted && Number.isFinite(fProp);
    if (accepted) {
      x = xProp;
      f = fProp;
      dPrev2 = dPrev;
      dPrev = d;
      [, grad] = obj.valueAndGrad(x);
      g = grad.map((v) => -v);
      gNorm = Math.sqrt(dot(g, g));
    } else if (mu <= muMin && !inTrust && damping >= gNorm / muMin) {
      break; // the damping is at its largest and still no progress: a stationary point to rounding
    }
  }
  return { x, f, iterations: it, gNorm };
}
