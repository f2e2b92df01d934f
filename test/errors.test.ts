import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../src/index.js';

/** Runs fn and returns the error it throws (failing if it does not). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, but none was thrown');
}

function expectError(fn: () => unknown, type: new (...a: any[]) => Error, ...fragments: (string | RegExp)[]): void {
  const e = thrown(fn);
  assert.instance(e, type, `expected ${type.name}, got ${e.constructor.name}: ${e.message}`);
  for (const f of fragments) {
    if (typeof f === 'string') assert.ok(e.message.includes(f), `message lacks '${f}': ${e.message}`);
    else assert.match(e.message, f);
  }
}

test('shape mismatch in broadcasting names the op and both shapes', () => {
  expectError(() => bt.add(bt.zeros([2, 3]), bt.zeros([4])), bt.ShapeError, 'add', '[2, 3]', '[4]');
});

test('matmul inner dimension mismatch names the shapes and suggests a fix', () => {
  expectError(() => bt.matmul(bt.zeros([2, 3]), bt.zeros([4, 5])), bt.ShapeError, 'matmul', '[2, 3]', '[4, 5]', 'mT');
});

test("matmul shape errors name the user's shapes, not the promoted or batched ones", () => {
  const noInternal = (fn: () => unknown, ...want: string[]) => {
    expectError(fn, bt.ShapeError, 'matmul', ...want, 'bt.mT');
    assert.not.ok(/\[1, 3\]|\[4, 1\]|\[7, /.test(thrown(fn).message), `internal shape in: ${thrown(fn).message}`);
  };
  noInternal(() => bt.matmul(bt.zeros([3]), bt.zeros([4, 5])), '[3] by [4, 5]', '(3)', '(4)');
  noInternal(() => bt.matmul(bt.zeros([2, 3]), bt.zeros([4])), '[2, 3] by [4]', 'length of the vector');
  noInternal(() => bt.matmul(bt.zeros([3]), bt.zeros([4])), '[3] by [4]');
  // inside vmap f sees one example: the error names that shape, not the batch's [7, ...]
  noInternal(() => bt.vmap((x: bt.Tensor) => bt.matmul(x, bt.zeros([4, 5])))(bt.zeros([7, 3])), '[3] by [4, 5]');
  noInternal(() => bt.vmap((x: bt.Tensor) => bt.matmul(x, bt.zeros([4, 5])))(bt.zeros([7, 2, 3])), '[2, 3] by [4, 5]');
  expectError(() => bt.matmul(bt.zeros([2, 2, 3]), bt.zeros([3, 3, 5])), bt.ShapeError, '[2, 2, 3] and [3, 3, 5]', 'batch dimensions', 'expandDims');
});

test('mixing dtypes is an error, not a silent cast, and suggests astype', () => {
  expectError(() => bt.mul(bt.zeros([2], 'float32'), bt.zeros([2], 'float64')), bt.DTypeError, 'mul', 'float32', 'float64', 'astype');
});

test('float-only ops reject int32 inputs', () => {
  expectError(() => bt.exp(bt.arange(3)), bt.DTypeError, 'exp', 'int32');
});

test('non-SPD Cholesky is a NumericalError naming the batch index and pivot', () => {
  const good = bt.eye(3);
  const bad = bt.tensor([[1, 2, 0], [2, 1, 0], [0, 0, 1]]);
  expectError(() => bt.linalg.cholesky(bt.stack([good, bad])), bt.NumericalError, 'cholesky', '#1', 'not positive definite', 'jitter');
});

test('singular solve is a NumericalError', () => {
  expectError(() => bt.linalg.solve(bt.tensor([[1, 2], [2, 4]]), bt.tensor([1, 1])), bt.NumericalError, 'solve', 'singular');
});

test('an op missing on a backend is a BackendError naming op and backend', () => {
  const b = {
    name: 'bare',
    upload: () => ({}),
    share: (h: unknown) => h,
    release: () => {},
    read: async () => new Float64Array(0),
    hasKernel: () => false,
    run: () => [],
    registerKernel: () => {},
    memory: () => ({ numBytes: 0, numBuffers: 0 }),
  };
  bt.registerBackend('bare', b);
  expectError(() => bt.withBackend('bare', () => bt.exp(bt.zeros([2]))), bt.BackendError, "'exp'", "'bare'");
  assert.is(bt.getBackend(), 'cpu', 'withBackend restores the previous backend after a throw');
});

test('unknown backend and async-only backend give BackendErrors that say what to do', () => {
  expectError(() => bt.setBackend('nope'), bt.BackendError, 'nope', 'registered');
  bt.registerBackend('later', async () => {
    throw new Error('not used');
  });
  expectError(() => bt.setBackend('later'), bt.BackendError, 'await bt.ready');
});

test('operands on different backends are rejected', () => {
  bt.registerBackend('cpu2', () => new (Object.getPrototypeOf(bt.zeros([1])._backend!).constructor)());
  const x = bt.zeros([2]);
  const y = bt.withBackend('cpu2', () => bt.zeros([2]));
  expectError(() => bt.add(x, y), bt.BackendError, 'different backends');
});

test('pytree mismatch is a ShapeError showing both structures', () => {
  expectError(() => bt.tree.map((a: bt.Tensor, b: bt.Tensor) => a.add(b), { w: bt.zeros([1]) }, { v: bt.zeros([1]) }), bt.ShapeError, 'different structures', 'w', 'v');
  const [, pullback] = bt.vjp((p: { a: bt.Tensor }) => ({ y: p.a.mul(2) }), { a: bt.ones([2]) });
  expectError(() => pullback({ z: bt.ones([2]) }), bt.ShapeError, 'structures');
});

test('grad of a non-scalar function explains what to do', () => {
  expectError(() => bt.grad((x: bt.Tensor) => x.mul(2))(bt.ones([3])), bt.ShapeError, 'scalar', '[3]', 'jacrev');
});

test('jvp tangent shape and dtype are checked', () => {
  expectError(() => bt.jvp((x: bt.Tensor) => x, [bt.ones([2])], [bt.ones([3])]), bt.ShapeError, 'tangent 0', '[3]', '[2]');
  expectError(() => bt.jvp((x: bt.Tensor) => x, [bt.ones([2])], [bt.ones([2], 'float32')]), bt.DTypeError, 'tangent 0');
});

test('bad options and arguments are ConfigErrors', () => {
  expectError(() => bt.jacrev((x: bt.Tensor) => x, { chunkSize: 0 }), bt.ConfigError, 'chunkSize');
  expectError(() => bt.grad((x: bt.Tensor) => x.sum(), { argnum: 0 } as never), bt.ConfigError, 'argnum');
  expectError(() => bt.sum(bt.ones([2]), { axes: 0 } as never), bt.ConfigError, 'axes');
  expectError(() => bt.tensor([1, 2], { dtype: 'float16' as never }), bt.DTypeError, 'float16');
  expectError(() => bt.add(bt.ones([2]), [1, 2] as never), bt.ConfigError, 'bt.tensor');
  expectError(() => bt.random.split(bt.random.key(0), 0), bt.ConfigError, 'num');
});

test('reshape, axis and index errors are ShapeErrors with the numbers', () => {
  expectError(() => bt.reshape(bt.zeros([2, 3]), [4]), bt.ShapeError, '[2, 3]', '[4]');
  expectError(() => bt.sum(bt.zeros([2, 3]), { axis: 2 }), bt.ShapeError, 'axis 2', 'rank 2');
  expectError(() => bt.take(bt.zeros([3]), bt.tensor([3], { dtype: 'int32' })), bt.ShapeError, 'index 3', 'size 3');
  expectError(() => bt.tensor([[1, 2], [3]]), bt.ShapeError, 'ragged');
});

test('indices must be int32 and keys must be keys', () => {
  expectError(() => bt.take(bt.zeros([3]), bt.tensor([0])), bt.DTypeError, 'int32');
  expectError(() => bt.random.normal(bt.zeros([2]), [3]), bt.DTypeError, 'PRNG key');
});

test('using a disposed tensor says how to keep it', () => {
  const x = bt.ones([2]);
  x.dispose();
  expectError(() => x.add(1), bt.ConfigError, 'disposed', 'keep');
});

test('a tracer escaping its transform is reported', () => {
  let leaked: bt.Tensor | null = null;
  bt.grad((x: bt.Tensor) => {
    leaked = x;
    return x.sum();
  })(bt.ones([2]));
  expectError(() => leaked!.add(1), bt.ConfigError, 'escaped');
});

test('errors inside tidy free the scope and leave tensors outside intact', () => {
  const keep = bt.ones([3]);
  const before = bt.memory().numTensors;
  assert.throws(() =>
    bt.tidy(() => {
      bt.ones([10]).add(1);
      bt.add(bt.ones([2]), bt.ones([3]));
    }),
  );
  assert.is(bt.memory().numTensors, before);
  assert.equal(Array.from(keep.dataSync()), [1, 1, 1]);
});

test.run();
