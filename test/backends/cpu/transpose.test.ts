/**
 * The CPU transpose's tiled path for swapping the last two axes (mT, batched matrix transposes):
 * values against a host loop for shapes that cross the 16 × 16 tiles unevenly, degenerate sizes,
 * leading batch axes and every dtype; other permutations still take the generic path.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';

function hostMT(v: ArrayLike<number>, shape: number[]): number[] {
  const r = shape[shape.length - 2]!, c = shape[shape.length - 1]!;
  const batch = v.length / (r * c);
  const out: number[] = new Array(v.length);
  for (let b = 0; b < batch; b++) for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[b * r * c + j * r + i] = v[b * r * c + i * c + j]!;
  return out;
}

test('mT over tiles, batches and dtypes equals the host transpose', () => {
  const shapes = [[40, 17], [2, 37, 21], [1, 16, 16], [5, 1, 33], [3, 33, 1], [2, 3, 33, 18], [1, 1], [4, 0, 3]];
  for (const dtype of ['float64', 'float32', 'int32'] as const) {
    for (const shape of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = Array.from({ length: n }, (_, i) => (i * 7919) % 1000 - 500);
      const x = bt.tensor(dtype === 'int32' ? Int32Array.from(v) : dtype === 'float32' ? Float32Array.from(v) : Float64Array.from(v), { shape, dtype });
      const perm = shape.map((_, i) => (i === shape.length - 2 ? shape.length - 1 : i === shape.length - 1 ? shape.length - 2 : i));
      const y = bt.transpose(x, perm);
      assert.equal(y.shape, perm.map((p) => shape[p]!), `${dtype} ${JSON.stringify(shape)} shape`);
      assert.equal(Array.from(y.dataSync()), hostMT(v, shape), `${dtype} ${JSON.stringify(shape)}`);
      bt.dispose([x, y]);
    }
  }
});

test('other permutations (generic path) are unchanged', () => {
  const v = Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
  const x = bt.tensor(v, { shape: [2, 3, 4] });
  // [2, 3, 4] → perm [1, 0, 2]: out[j][i][k] = x[i][j][k]
  const y = bt.transpose(x, [1, 0, 2]);
  const want: number[] = [];
  for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) want.push(v[i * 12 + j * 4 + k]!);
  assert.equal(Array.from(y.dataSync()), want);
  bt.dispose([x, y]);
});

test.run();
