/**
 * Loads examples/data/breast-cancer.csv (UCI Breast Cancer Wisconsin (Diagnostic), CC BY 4.0;
 * see README.md): 569 rows, 30 features, label 1 = benign. Features are standardised with the
 * training rows' mean and standard deviation; the split is a fixed deterministic shuffle.
 */
import { readFileSync } from 'node:fs';
import * as bt from '../../src/index.js';

export interface BreastCancer {
  names: string[];
  xTrain: bt.Tensor;
  yTrain: bt.Tensor;
  xTest: bt.Tensor;
  yTest: bt.Tensor;
  nTrain: number;
  nTest: number;
}

export function loadBreastCancerRaw(): { names: string[]; x: number[][]; y: number[] } {
  const text = readFileSync(new URL('./breast-cancer.csv', import.meta.url), 'utf8').trim().split('\n');
  const names = text[0]!.split(',').slice(0, 30);
  const x: number[][] = [];
  const y: number[] = [];
  for (const line of text.slice(1)) {
    const v = line.split(',').map(Number);
    x.push(v.slice(0, 30));
    y.push(v[30]!);
  }
  return { names, x, y };
}

/** Train/test split (testFraction of the rows held out, shuffled with a fixed seed), standardised features. */
export function loadBreastCancer(opts: { testFraction?: number; seed?: number } = {}): BreastCancer {
  const { names, x, y } = loadBreastCancerRaw();
  const n = x.length;
  // a deterministic shuffle (mulberry32) so the split does not depend on the PRNG of the library
  let a = (opts.seed ?? 2024) >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  const nTest = Math.round(n * (opts.testFraction ?? 0.2));
  const test = idx.slice(0, nTest);
  const train = idx.slice(nTest);
  const d = 30;
  const mu = new Array<number>(d).fill(0);
  const sd = new Array<number>(d).fill(0);
  for (const i of train) for (let j = 0; j < d; j++) mu[j]! += x[i]![j]! / train.length;
  for (const i of train) for (let j = 0; j < d; j++) sd[j]! += (x[i]![j]! - mu[j]!) ** 2 / train.length;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]!);
  const rows = (ids: number[]) => bt.tensor(ids.map((i) => x[i]!.map((v, j) => (v - mu[j]!) / sd[j]!)));
  const labels = (ids: number[]) => bt.tensor(ids.map((i) => y[i]!));
  return { names, xTrain: rows(train), yTrain: labels(train), xTest: rows(test), yTest: labels(test), nTrain: train.length, nTest };
}
