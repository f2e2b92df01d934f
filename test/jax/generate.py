"""Fixture generator for test/jax/differential.test.ts: the same cases evaluated by real JAX.

Run by hand from the repository root (not part of the test suite; needs JAX, CPU is enough):

    python test/jax/generate.py            # writes test/jax/fixture.json

Generated with jax 0.10.2 / jaxlib 0.10.2 (CPU), scipy 1.17.1, with jax_enable_x64 = True and
jax_threefry_partitionable = True (the default from jax 0.5 on; set explicitly below). Keys come
from jax.random.PRNGKey. JAX has no gammaincinv/betaincinv, so those two rows are scipy's.

Every case is {cat, fn, ...}: `fn` names a function both sides define (here in FNS / RANDOM, in
the test in the matching tables); numbers are JSON floats (Python's repr, which round-trips
exactly) or the strings "inf", "-inf", "nan". float32 cases carry dtype "float32".
"""
import json
import math
import os

import jax

jax.config.update('jax_enable_x64', True)
jax.config.update('jax_threefry_partitionable', True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import scipy.special as ss  # noqa: E402
from jax.scipy import special as js  # noqa: E402
from jax.scipy.linalg import solve_triangular  # noqa: E402

INF = math.inf
NAN = math.nan


def enc(x):
    a = np.asarray(x)
    flat = a.reshape(-1).tolist()

    def one(v):
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, float):
            if math.isnan(v):
                return 'nan'
            if math.isinf(v):
                return 'inf' if v > 0 else '-inf'
        return v

    return {'shape': list(a.shape), 'data': [one(v) for v in flat]}


def f64(*xs):
    return [jnp.asarray(np.asarray(x, dtype=np.float64)) for x in xs]


cases = []

# ---------------------------------------------------------------- (a) op values at awkward points
AWK = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -2.5, 2.5, 1e-300, -1e-300, 1e300, -1e300, 30.0, -30.0, 700.0, -745.0, INF, -INF, NAN]
POS = [0.0, 1e-300, 1e-10, 0.5, 1.0, 2.0, 1e300, INF, NAN]

UNARY = {
    'exp': (jnp.exp, AWK),
    'log': (jnp.log, POS + [-1.0]),
    'log1p': (jnp.log1p, [-1.0, -0.5, -1e-300, 0.0, 1e-300, 1e-10, 1.0, 1e300, INF, NAN]),
    'expm1': (jnp.expm1, AWK),
    'sqrt': (jnp.sqrt, POS + [-1.0, -0.0]),
    'tanh': (jnp.tanh, AWK),
    'sigmoid': (jax.nn.sigmoid, AWK),
    'softplus': (jax.nn.softplus, AWK),
    'logSigmoid': (jax.nn.log_sigmoid, AWK),
    'erf': (js.erf, AWK + [3.0, -6.0, 1e-8]),
    'erfinv': (js.erfinv, [0.0, 0.5, -0.5, 0.9, 0.999999, -0.999999, 1.0, -1.0, 1e-300, 1.5, NAN]),
    'round': (jnp.round, [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999999999999994, -3.7, 1e300, INF, -INF, NAN]),
    'floor': (jnp.floor, [-2.5, -0.5, -0.0, 0.5, 2.0, 1e300, -1e-300, INF, -INF, NAN]),
    'abs': (jnp.abs, AWK),
    'lgamma': (js.gammaln, [0.5, 1.0, 2.0, 3.5, 1e-300, 1e-10, 10.5, 100.0, 1e5, 1e300, INF]),
    'digamma': (js.digamma, [0.5, 1.0, 2.0, 3.5, 1e-10, 10.5, 100.0, 1e5, 1e300]),
}
for name, (f, pts) in UNARY.items():
    (x,) = f64(pts)
    case = {'cat': 'op', 'fn': name, 'args': [enc(x)], 'out': enc(f(x))}
    if name == 'erfinv':
        # JAX's float64 erfinv is ~3500 ulps off near ±1 (0.999999: 3.4589107372739605, mpmath
        # 3.458910737275498777...); scipy's (Boost) is correctly rounded there: the test checks against it
        case['scipy'] = enc(ss.erfinv(np.asarray(x)))
    cases.append(case)

# binary ops over an outer grid of awkward pairs (broadcast [n,1] against [1,n])
BIN = [0.0, -0.0, 1.0, -1.0, 2.5, 1e-300, 1e300, INF, -INF, NAN]
BINARY = {
    'add': jnp.add, 'div': jnp.divide, 'maximum': jnp.maximum, 'minimum': jnp.minimum,
    'atan2': jnp.arctan2, 'logaddexp': jnp.logaddexp,
}
for name, f in BINARY.items():
    a, b = f64(np.array(BIN)[:, None], np.array(BIN)[None, :])
    cases.append({'cat': 'op', 'fn': name, 'args': [enc(a), enc(b)], 'out': enc(f(a, b))})
a, b = f64(np.array([0.0, 0.5, 1.0, 2.0, 1e-300, 1e300, INF, -1.0, -2.0, NAN])[:, None], np.array([0.0, 0.5, 1.0, 2.0, -1.0, -0.5, 3.0, 1e300, -INF, INF, NAN])[None, :])
cases.append({'cat': 'op', 'fn': 'pow', 'args': [enc(a), enc(b)], 'out': enc(jnp.power(a, b))})

GI_A = [0.1, 0.5, 1.0, 2.5, 10.0, 100.0]
GI_X = [0.0, 1e-300, 0.01, 0.5, 1.0, 3.0, 12.0, 150.0, 1e300, INF]
a, x = f64(np.array(GI_A)[:, None], np.array(GI_X)[None, :])
cases.append({'cat': 'op', 'fn': 'gammainc', 'args': [enc(a), enc(x)], 'out': enc(js.gammainc(a, x))})
cases.append({'cat': 'op', 'fn': 'gammaincc', 'args': [enc(a), enc(x)], 'out': enc(js.gammaincc(a, x))})
BA = np.array([0.5, 1.0, 2.0, 5.0, 20.0])
a, b, x = f64(BA[:, None, None], BA[None, :, None], np.array([0.0, 1e-10, 0.1, 0.5, 0.9, 1.0])[None, None, :])
cases.append({'cat': 'op', 'fn': 'betainc', 'args': [enc(a), enc(b), enc(x)], 'out': enc(js.betainc(a, b, x))})
P = np.array([1e-10, 0.01, 0.3, 0.5, 0.9, 0.999])
a, p = np.array(GI_A[:5])[:, None], P[None, :]
cases.append({'cat': 'op', 'fn': 'gammaincinv', 'ref': 'scipy', 'args': [enc(a), enc(p)], 'out': enc(ss.gammaincinv(a, p))})
a, b, p = BA[:4, None, None], BA[None, :4, None], P[None, None, :]
cases.append({'cat': 'op', 'fn': 'betaincinv', 'ref': 'scipy', 'args': [enc(a), enc(b), enc(p)], 'out': enc(ss.betaincinv(a, b, p))})

# reductions along the last axis, rows chosen to be awkward
ROWS = [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [-INF, -INF, -INF], [-INF, 0.0, -INF], [1000.0, 1000.0, -1000.0],
        [-1e300, 1e-300, 5.0], [INF, 0.0, 1.0], [NAN, 0.0, 1.0], [-745.0, -746.0, -800.0]]
(rows,) = f64(ROWS)
REDUCE = {
    'logsumexp': lambda x: js.logsumexp(x, axis=-1),
    'softmax': lambda x: jax.nn.softmax(x, axis=-1),
    'logSoftmax': lambda x: jax.nn.log_softmax(x, axis=-1),
    'cumsum': lambda x: jnp.cumsum(x, axis=-1),
    'logcumsumexp': lambda x: jax.lax.cumlogsumexp(x, axis=1),
}
for name, f in REDUCE.items():
    cases.append({'cat': 'op', 'fn': name, 'args': [enc(rows)], 'out': enc(f(rows))})
(s,) = f64([[3.0, 1.0, 2.0, 1.0, -0.0, 0.0, -INF, INF, 2.0], [5.0, 5.0, 5.0, -1.0, 1e-300, -1e-300, 7.0, 0.5, 0.5]])
cases.append({'cat': 'op', 'fn': 'sort', 'args': [enc(s)], 'out': enc(jnp.sort(s, axis=-1))})
cases.append({'cat': 'op', 'fn': 'argsort', 'int': True, 'args': [enc(s)], 'out': enc(jnp.argsort(s, axis=-1, stable=True))})
cases.append({'cat': 'op', 'fn': 'sortDescending', 'args': [enc(s)], 'out': enc(jnp.sort(s, axis=-1, descending=True))})
cases.append({'cat': 'op', 'fn': 'argsortDescending', 'int': True, 'args': [enc(s)], 'out': enc(jnp.argsort(s, axis=-1, stable=True, descending=True))})

# ------------------------------------------------- (b) derivatives of scalar functions at kinks
X3 = jnp.array([[1.0, 2.0, -0.5], [0.3, -1.0, 0.7], [-2.0, 0.1, 1.2], [0.5, 0.5, -0.4]])
Y4 = jnp.array([1.0, 0.0, 1.0, 0.0])
FNS = {
    'softplus': lambda x: jnp.sum(jax.nn.softplus(x)),
    'logSigmoid': lambda x: jnp.sum(jax.nn.log_sigmoid(x)),
    'sigmoid': lambda x: jnp.sum(jax.nn.sigmoid(x)),
    'tanh': lambda x: jnp.sum(jnp.tanh(x)),
    'erf': lambda x: jnp.sum(js.erf(x)),
    'logaddexp0': lambda x: jnp.sum(jnp.logaddexp(x, 0.0)),
    'logaddexpSelf': lambda x: jnp.sum(jnp.logaddexp(x, x[::-1])),
    'maximum0': lambda x: jnp.sum(jnp.maximum(x, 0.0)),
    'minimum0': lambda x: jnp.sum(jnp.minimum(x, 0.0)),
    'maximumTie': lambda x: jnp.sum(jnp.maximum(x, x[::-1]) * jnp.arange(1.0, x.shape[0] + 1)),
    'relu': lambda x: jnp.sum(jax.nn.relu(x)),
    'abs': lambda x: jnp.sum(jnp.abs(x)),
    'sqrtSq': lambda x: jnp.sum(jnp.sqrt(x * x + 1.0)),
    'atan2': lambda x: jnp.sum(jnp.arctan2(x, x[::-1] + 2.0)),
    'powSq': lambda x: jnp.sum(jnp.power(x, 2.0)),
    'logsumexp': lambda x: js.logsumexp(x),
    'logSoftmax0': lambda x: jax.nn.log_softmax(x)[0],
    'logcumsumexp': lambda x: jnp.sum(jax.lax.cumlogsumexp(x) * jnp.arange(1.0, x.shape[0] + 1)),
    'round': lambda x: jnp.sum(jnp.round(x) * x),
    'lgamma': lambda x: jnp.sum(js.gammaln(x * x + 0.5)),
    'logistic': lambda w: jnp.sum(jax.nn.log_sigmoid(jnp.where(Y4 > 0, 1.0, -1.0) * (X3 @ w))),
}
# points where each function is probed (a kink / tie at 0 in every list)
PTS = {
    'softplus': [[0.0, 0.0, 0.0], [1.0, -30.0, 40.0]], 'logSigmoid': [[0.0, 0.0, 0.0], [1.0, -40.0, 30.0]],
    'sigmoid': [[0.0, 1.0, -1.0]], 'tanh': [[0.0, 1.0, -20.0]], 'erf': [[0.0, 1.0, -3.0]],
    'logaddexp0': [[0.0, 0.0, 0.0], [5.0, -5.0, 0.0]], 'logaddexpSelf': [[1.0, 0.0, 1.0]],
    'maximum0': [[0.0, 1.0, -1.0]], 'minimum0': [[0.0, 1.0, -1.0]], 'maximumTie': [[1.0, 2.0, 1.0], [2.0, 2.0, 2.0]],
    'relu': [[0.0, 1.0, -1.0]], 'abs': [[0.0, 1.0, -1.0]], 'sqrtSq': [[0.0, 1.0, -2.0]],
    'atan2': [[0.0, 1.0, -1.0]], 'powSq': [[0.0, 1.0, -3.0]],
    'logsumexp': [[0.0, 0.0, 0.0], [1000.0, 0.0, -1000.0], [-INF, 0.0, 1.0]],
    'logSoftmax0': [[0.0, 0.0, 0.0]], 'logcumsumexp': [[0.0, 0.0, 0.0], [-1.0, 2.0, 0.5]],
    'round': [[0.5, 1.5, -2.5]], 'lgamma': [[0.0, 1.0, 2.0]], 'logistic': [[0.0, 0.0, 0.0], [0.5, -1.0, 0.2]],
}
TANGENT = jnp.array([1.0, -0.5, 2.0])
for name, pts in PTS.items():
    f = FNS[name]
    for p in pts:
        (x,) = f64(p)
        cases.append({'cat': 'deriv', 'fn': name, 'kind': 'grad', 'args': [enc(x)], 'out': enc(jax.grad(f)(x))})
        primal, tangent = jax.jvp(f, (x,), (TANGENT,))
        cases.append({'cat': 'deriv', 'fn': name, 'kind': 'jvp', 'args': [enc(x), enc(TANGENT)], 'out': enc(jnp.stack([primal, tangent]))})
        cases.append({'cat': 'deriv', 'fn': name, 'kind': 'hessian', 'args': [enc(x)], 'out': enc(jax.hessian(f)(x))})
# the documented difference: logsumexp over an all −∞ row (JAX NaN, ours 0)
(x,) = f64([-INF, -INF, -INF])
cases.append({'cat': 'deriv', 'fn': 'logsumexp', 'kind': 'grad', 'args': [enc(x)], 'out': enc(jax.grad(FNS['logsumexp'])(x))})

# -------------------------------------------------------------- (c) linalg values and derivatives
B0 = jnp.array([[1.2, 0.3, -0.4], [0.1, 0.9, 0.5], [-0.6, 0.2, 1.1]])
R3 = jnp.array([[0.5, -1.0], [2.0, 0.3], [-0.7, 1.4]])
W3 = jnp.array([[1.0, 0.5, -2.0], [0.3, -1.0, 0.8], [0.2, 0.7, 1.5]])


def spd(b):
    return b @ b.T + jnp.eye(3)


LINALG = {
    'cholesky': lambda b: jnp.sum(jnp.linalg.cholesky(spd(b)) * W3),
    'triangularSolveLower': lambda b: jnp.sum(solve_triangular(jnp.linalg.cholesky(spd(b)), R3, lower=True) * R3),
    'triangularSolveUpperT': lambda b: jnp.sum(solve_triangular(jnp.triu(b) + 2 * jnp.eye(3), R3, lower=False, trans=1) ** 2),
    'solve': lambda b: jnp.sum(jnp.linalg.solve(b + jnp.eye(3), R3) * R3),
    'inv': lambda b: jnp.sum(jnp.linalg.inv(b + jnp.eye(3)) * W3),
    'slogdet': lambda b: jnp.linalg.slogdet(b - 0.5 * jnp.eye(3))[1],
    'slogdetSign': lambda b: jnp.linalg.slogdet(b - 0.5 * jnp.eye(3))[0],
}
for name, f in LINALG.items():
    (b,) = f64(B0)
    cases.append({'cat': 'linalg', 'fn': name, 'kind': 'value', 'args': [enc(b)], 'out': enc(f(b))})
    cases.append({'cat': 'linalg', 'fn': name, 'kind': 'grad', 'args': [enc(b)], 'out': enc(jax.grad(f)(b))})
    if name != 'slogdetSign':
        v = jnp.ones((3, 3))
        cases.append({'cat': 'linalg', 'fn': name, 'kind': 'hvp', 'args': [enc(b), enc(v)], 'out': enc(jax.jvp(jax.grad(f), (b,), (v,))[1])})

# ----------------------------------------------------------------------- (d) vmap compositions
VF = {
    'softplusMix': lambda x: jnp.sum(jax.nn.softplus(x) * jnp.sin(x[::-1])),
    'vecExp': lambda x: jnp.exp(x) * jnp.sum(x),
}
XB = jnp.array([[0.0, 0.0, 0.0], [0.5, -1.0, 2.0], [1.0, 0.0, -0.3], [3.0, -2.0, 0.1]])
VMAP = {
    'vmapGrad': lambda xb: jax.vmap(jax.grad(VF['softplusMix']))(xb),
    'vmapHessian': lambda xb: jax.vmap(jax.hessian(VF['softplusMix']))(xb),
    'vmapJacfwd': lambda xb: jax.vmap(jax.jacfwd(VF['vecExp']))(xb),
    'vmapJacrev': lambda xb: jax.vmap(jax.jacrev(VF['vecExp']))(xb),
    'jacfwdVmap': lambda xb: jax.jacfwd(jax.vmap(VF['vecExp']))(xb),
    'jacrevVmapSum': lambda xb: jax.jacrev(lambda z: jnp.sum(jax.vmap(VF['softplusMix'])(z) ** 2))(xb),
    'vmapVmapGrad': lambda xb: jax.vmap(jax.vmap(jax.grad(lambda s: jax.nn.softplus(s) * s)))(xb),
}
for name, f in VMAP.items():
    (xb,) = f64(XB)
    cases.append({'cat': 'vmap', 'fn': name, 'args': [enc(xb)], 'out': enc(f(xb))})

# ------------------------------------------------------------------------------ (e) jax.random
SEEDS = [0, 1, 42, 2**31 + 5]
R = jax.random


def rcase(fn, seed, out, dtype='float64', params=None, integer=False):
    cases.append({'cat': 'random', 'fn': fn, 'seed': seed, 'dtype': dtype, 'params': params or {}, 'int': integer, 'out': enc(out)})


def u32_as_i32(a):
    return np.asarray(a).astype(np.uint32).view(np.int32)


for seed in SEEDS:
    k = R.PRNGKey(seed)
    rcase('key', seed, u32_as_i32(k), 'int', integer=True)
    rcase('split', seed, u32_as_i32(R.split(k, 3)), 'int', {'num': 3}, integer=True)
    rcase('foldIn', seed, u32_as_i32(R.fold_in(k, 7)), 'int', {'data': 7}, integer=True)
    rcase('bits', seed, u32_as_i32(R.bits(k, (5,), jnp.uint32)), 'int', {'shape': [5]}, integer=True)
    rcase('permutation', seed, R.permutation(k, 10), 'int', {'n': 10}, integer=True)
    rcase('permutation', seed, R.permutation(k, 1000)[:50], 'int', {'n': 1000, 'head': 50}, integer=True)
    rcase('randint', seed, R.randint(k, (6,), 0, 10), 'int', {'shape': [6], 'minval': 0, 'maxval': 10}, integer=True)
    rcase('randint', seed, R.randint(k, (6,), -1000, 2**31 - 1), 'int', {'shape': [6], 'minval': -1000, 'maxval': 2**31 - 1}, integer=True)
    rcase('randint', seed, R.randint(k, (6,), 0, 10, dtype=jnp.int32), 'int', {'shape': [6], 'minval': 0, 'maxval': 10, 'bits': 32}, integer=True)
    rcase('randint', seed, R.randint(k, (6,), -7, 3, dtype=jnp.int32), 'int', {'shape': [6], 'minval': -7, 'maxval': 3, 'bits': 32}, integer=True)
    for dt, jdt in (('float64', jnp.float64), ('float32', jnp.float32)):
        rcase('uniform', seed, R.uniform(k, (6,), dtype=jdt), dt, {'shape': [6]})
        rcase('uniform', seed, R.uniform(k, (6,), dtype=jdt, minval=0.1, maxval=0.7), dt, {'shape': [6], 'minval': 0.1, 'maxval': 0.7})
        rcase('uniform', seed, R.uniform(k, (6,), dtype=jdt, minval=-3.0, maxval=1e3), dt, {'shape': [6], 'minval': -3.0, 'maxval': 1e3})
        rcase('normal', seed, R.normal(k, (8,), dtype=jdt), dt, {'shape': [8]})
        p = jnp.array([0.0, 0.1, 0.5, 0.9, 1.0, 0.3], dtype=jdt)
        rcase('bernoulli', seed, R.bernoulli(k, p).astype(jnp.int32), dt, {'p': enc(p)}, integer=True)
        rcase('gumbel', seed, R.gumbel(k, (6,), dtype=jdt), dt, {'shape': [6]})
        logits = jnp.array([[0.0, 1.0, -1.0, 0.5], [2.0, 2.0, -INF, 0.0], [-3.0, 0.0, 0.1, 0.2]], dtype=jdt)
        rcase('categorical', seed, R.categorical(k, logits), dt, {'logits': enc(logits)}, integer=True)
    for a in (0.1, 0.5, 1.0, 2.5, 30.0):
        rcase('gamma', seed, R.gamma(k, a, (5,), dtype=jnp.float64), 'float64', {'a': a, 'shape': [5]})
    # the implicit reparameterisation gradient d/da of sum(gamma(key, a))
    for a in (0.5, 2.5):
        rcase('gammaGradA', seed, jax.grad(lambda aa: jnp.sum(R.gamma(k, aa, (5,), dtype=jnp.float64)))(jnp.float64(a)), 'float64', {'a': a, 'shape': [5]})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixture.json')
meta = {'jax': jax.__version__, 'jaxlib': jax.lib.__version__ if hasattr(jax.lib, '__version__') else None, 'x64': True,
        'threefry_partitionable': bool(jax.config.jax_threefry_partitionable)}
with open(out, 'w') as fh:
    json.dump({'meta': meta, 'cases': cases}, fh, separators=(',', ':'), allow_nan=False)
counts = {}
for c in cases:
    counts[c['cat']] = counts.get(c['cat'], 0) + 1
print(out, os.path.getsize(out), 'bytes', counts)
