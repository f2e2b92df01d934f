/**
 * vmap nested with the Jacobian transforms (issue 10 §4): vmap∘jacfwd, vmap∘jacrev, vmap∘hessian,
 * jacfwd∘vmap, jacrev∘vmap, vmap∘vmap∘jacrev, vmap∘hvp, with chunk sizes, inAxes other than 0,
 * an unmapped differentiated argument and a pytree argument. Each result is checked against a
 * loop of the unbatched transform over the rows (AD vs AD) and against finite differences of the
 * function evaluated on the backend under test (see ../backend-harness.ts).
 */
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import * as bt from '../../src/index.js';
import { adClose, assertJacobianVsFD, backendsUnderTest, numericJacobian, randnB, read, registerAll, type BackendCase } from '../backend-harness.js';

const backends = await backendsUnderTest('vmap-jacobian');

const CHUNKS = [1, 2, undefined] as const;
const chunkOpts = (c: number | undefined) => (c === undefined ? undefined : { chunkSize: c });

/** Row b of X (a view of X[b]). */
function row(X: bt.Tensor, b: number): bt.Tensor {
  return bt.reshape(bt.slice(X, [b, ...X.shape.slice(1).map(() => 0)], [1, ...X.shape.slice(1)]), X.shape.slice(1));
}

/** A non-linear map R^3 -> R^2 (matmul, tanh, exp, a reduction, broadcasting against a constant). */
function fixture(B: BackendCase) {
  const W = randnB(B, [3, 2], 5, 0.8);
  const c = randnB(B, [2], 6);
  const f = (x: bt.Tensor): bt.Tensor => bt.add(bt.tanh(bt.matmul(bt.expandDims(x, 0), W).reshape([2])), bt.mul(c, bt.exp(bt.mul(bt.sum(bt.square(x)), -0.2))));
  /** a scalar function for Hessians */
  const s = (x: bt.Tensor): bt.Tensor => bt.sum(bt.mul(bt.sin(x), bt.tanh(bt.matmul(bt.expandDims(x, 0), W)).sum()));
  return { W, f, s, X: randnB(B, [4, 3], 7, 0.7) };
}

/** Per-row results of `per` stacked on a new leading axis: the reference for vmap∘per. */
function loopRows(X: bt.Tensor, per: (x: bt.Tensor) => bt.Tensor): bt.Tensor {
  return bt.stack(Array.from({ length: X.shape[0]! }, (_, b) => per(row(X, b))), 0);
}

/** FD Jacobians of f at each row of X, stacked: the FD reference for vmap(jac(f))(X). */
async function fdRows(B: BackendCase, J: bt.Tensor, f: (x: bt.Tensor) => bt.Tensor, X: bt.Tensor, what: string): Promise<void> {
  for (let b = 0; b < X.shape[0]!; b++) await assertJacobianVsFD(B, row(J, b), await numericJacobian(B, f, row(X, b)), `${what} row ${b}`);
}

registerAll(backends, 'vmap(jacfwd(f)) and vmap(jacrev(f)) equal per-row loops and finite differences, every chunk size', async (B) => {
  const { f, X } = fixture(B);
  const want = loopRows(X, (x) => bt.jacrev(f)(x));
  assert.equal([...want.shape], [4, 2, 3]);
  for (const c of CHUNKS) {
    const jf = bt.vmap(bt.jacfwd(f, chunkOpts(c)))(X);
    const jr = bt.vmap(bt.jacrev(f, chunkOpts(c)))(X);
    await adClose(B, jf, want, 1e-12, 1e-14, `vmap(jacfwd) vs loop (chunk ${c})`);
    await adClose(B, jr, want, 1e-12, 1e-14, `vmap(jacrev) vs loop (chunk ${c})`);
  }
  await fdRows(B, bt.vmap(bt.jacrev(f))(X), f, X, 'vmap(jacrev) vs FD');
});

registerAll(backends, 'vmap(hessian(s)) equals per-row Hessians, is symmetric, and matches FD of the gradient', async (B) => {
  const { s, X } = fixture(B);
  const want = loopRows(X, (x) => bt.hessian(s)(x));
  for (const c of CHUNKS) {
    const H = bt.vmap(bt.hessian(s, chunkOpts(c)))(X);
    assert.equal([...H.shape], [4, 3, 3]);
    await adClose(B, H, want, 1e-12, 1e-14, `vmap(hessian) vs loop (chunk ${c})`);
    await adClose(B, H, bt.transpose(H, [0, 2, 1]), 1e-12, 1e-14, `vmap(hessian) symmetric (chunk ${c})`);
  }
  await fdRows(B, bt.vmap(bt.hessian(s))(X), bt.grad(s), X, 'vmap(hessian) vs FD of grad');
});

registerAll(backends, 'jacfwd(vmap(f)) and jacrev(vmap(f)) are block diagonal with the per-row Jacobians', async (B) => {
  const { f, X } = fixture(B);
  const vf = bt.vmap(f);
  const fd = await numericJacobian(B, vf, X);
  for (const c of CHUNKS) {
    for (const [name, jac] of [['jacfwd', bt.jacfwd], ['jacrev', bt.jacrev]] as const) {
      const J = jac(vf, chunkOpts(c))(X); // [4, 2, 4, 3]
      assert.equal([...J.shape], [4, 2, 4, 3], `${name}(vmap) shape`);
      const Jv = await read(J);
      const blocks = await read(loopRows(X, (x) => bt.jacrev(f)(x)));
      const want = Jv.map((_, i) => {
        const [b, o, b2, k] = [Math.floor(i / 24), Math.floor(i / 12) % 2, Math.floor(i / 3) % 4, i % 3];
        return b === b2 ? blocks[b * 6 + o * 3 + k]! : 0;
      });
      await adClose(B, J, want, 1e-12, 1e-14, `${name}(vmap(f)) vs block-diagonal loop (chunk ${c})`);
      await assertJacobianVsFD(B, J, fd, `${name}(vmap(f)) vs FD (chunk ${c})`);
    }
  }
});

registerAll(backends, 'vmap(vmap(jacrev(f))) over a [2,3,3] batch equals the double loop', async (B) => {
  const { f } = fixture(B);
  const X = randnB(B, [2, 3, 3], 8, 0.7);
  for (const c of CHUNKS) {
    const J = bt.vmap(bt.vmap(bt.jacrev(f, chunkOpts(c))))(X);
    assert.equal([...J.shape], [2, 3, 2, 3]);
    const want = loopRows(X, (Xa) => loopRows(Xa, (x) => bt.jacrev(f)(x)));
    await adClose(B, J, want, 1e-12, 1e-14, `vmap(vmap(jacrev)) vs loop (chunk ${c})`);
    const Jf = bt.vmap(bt.vmap(bt.jacfwd(f, chunkOpts(c))))(X);
    await adClose(B, Jf, want, 1e-12, 1e-14, `vmap(vmap(jacfwd)) vs loop (chunk ${c})`);
  }
});

registerAll(backends, 'vmap with inAxes 1 and an unmapped argument: Jacobians w.r.t. the mapped and the unmapped argument', async (B) => {
  const { X } = fixture(B);
  const A = randnB(B, [3, 2], 9, 0.8);
  const g = (x: bt.Tensor, a: bt.Tensor): bt.Tensor => bt.tanh(bt.matmul(bt.expandDims(x, 0), a).reshape([2])).mul(bt.sum(x));
  const Xt = bt.transpose(X, [1, 0]); // [3, 4]: rows along axis 1
  for (const c of CHUNKS) {
    // w.r.t. x, batched along axis 1 of the first argument; a is shared (inAxes null)
    const jx = bt.vmap(bt.jacfwd(g, chunkOpts(c)), { inAxes: [1, null] })(Xt, A);
    await adClose(B, jx, loopRows(X, (x) => bt.jacrev((xx: bt.Tensor) => g(xx, A))(x)), 1e-12, 1e-14, `vmap(jacfwd wrt x, inAxes [1, null]) (chunk ${c})`);
    // w.r.t. the unmapped a: the Jacobian still differs per row, through x
    for (const jac of [bt.jacfwd, bt.jacrev]) {
      const ja = bt.vmap(jac(g, { ...chunkOpts(c), argnums: 1 }), { inAxes: [1, null] })(Xt, A);
      assert.equal([...ja.shape], [4, 2, 3, 2]);
      const want = loopRows(X, (x) => bt.jacrev((aa: bt.Tensor) => g(x, aa))(A));
      await adClose(B, ja, want, 1e-12, 1e-14, `vmap(${jac.name} wrt unmapped a) (chunk ${c})`);
    }
  }
  const ja = bt.vmap(bt.jacrev(g, { argnums: 1 }), { inAxes: [1, null] })(Xt, A);
  for (let b = 0; b < 4; b++) {
    const x = row(X, b);
    await assertJacobianVsFD(B, row(ja, b), await numericJacobian(B, (aa) => g(x, aa), A), `vmap(jacrev wrt a) vs FD row ${b}`);
  }
});

registerAll(backends, 'vmap over a pytree argument: Jacobian of the raveled parameters per row', async (B) => {
  const { f } = fixture(B);
  const P = { u: randnB(B, [4, 2], 10, 0.7), v: randnB(B, [4, 1], 11, 0.7) };
  const per = (p: { u: bt.Tensor; v: bt.Tensor }): bt.Tensor => {
    const [flat, unravel] = bt.tree.ravel(p);
    const h = (z: bt.Tensor) => {
      const q = unravel(z) as { u: bt.Tensor; v: bt.Tensor };
      return f(bt.concat([q.u, q.v], 0));
    };
    return bt.jacrev(h)(flat);
  };
  const J = bt.vmap(per)(P);
  assert.equal([...J.shape], [4, 2, 3]);
  const X = bt.concat([P.u, P.v], 1);
  await adClose(B, J, loopRows(X, (x) => bt.jacfwd(f)(x)), 1e-12, 1e-14, 'vmap over a pytree vs loop');
  await fdRows(B, J, f, X, 'vmap over a pytree vs FD');
});

registerAll(backends, 'vmap(hvp): per-row Hessian-vector products equal H·v', async (B) => {
  const { s, X } = fixture(B);
  const V = randnB(B, [4, 3], 12);
  const hv = bt.vmap((x: bt.Tensor, v: bt.Tensor) => bt.hvp(s, x, v))(X, V);
  const H = bt.vmap(bt.hessian(s))(X);
  const want = bt.matmul(H, bt.expandDims(V, 2)).reshape([4, 3]);
  await adClose(B, hv, want, 1e-12, 1e-14, 'vmap(hvp) vs H·v');
});

test('vmap(jacrev(f)) runs without reading the batched value (a tracer has none inside vmap)', () => {
  // the regression of issue 10: the basis was built from the argument's value
  let threw: unknown = null;
  try {
    bt.vmap(bt.jacrev((x: bt.Tensor) => bt.sin(x)))(bt.tensor([[0.1, 0.2], [0.3, 0.4]]));
  } catch (e) {
    threw = e;
  }
  assert.is(threw, null, `vmap(jacrev) threw: ${(threw as Error | null)?.message}`);
});

test.run();
