/** Bad input → typed errors that name the value (issue 5, acceptance 4). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { throwsType } from '../../helpers.js';

const lp = (p: bt.Tensor): [bt.Tensor, never[]] => [p.square().sum().mul(-0.5), []];
const key = bt.random.key(0);
const NAMES = ['sghmc', 'sgld', 'sgnht', 'baoa'] as const;
const buildAny = (name: (typeof NAMES)[number], f: (p: bt.Tensor, b: any) => [bt.Tensor, never[]]) =>
  name === 'sgld' ? bt.sgmcmc.sgld.build(f, { lr: 0.01 }) : (bt.sgmcmc[name] as typeof bt.sgmcmc.sghmc).build(f, { lr: 0.01, momenta: 0 });


test('a logPosterior returning a non-scalar → ShapeError naming the shape and the step', () => {
  for (const name of NAMES) {
    const s = buildAny(name, (p: bt.Tensor) => [p.square().mul(-0.5), []]);
    const st = s.init(bt.tensor([1, 2]), key);
    throwsType(() => s.update(st, null, key), bt.ShapeError, /scalar.*shape \[2\].*step 0/, name);
  }
});

test('a logPosterior returning NaN → NumericalError with the step; the state is not updated', () => {
  for (const name of NAMES) {
    const s = buildAny(name, (p: bt.Tensor, batch: number) => [batch === 3 ? p.sum().mul(NaN) : p.square().sum().mul(-0.5), []]);
    let st: bt.sgmcmc.BaseState = s.init(bt.tensor([1, 2]), key);
    for (let t = 0; t < 3; t++) st = s.update(st as never, t, key)[0];
    throwsType(() => s.update(st as never, 3, key), bt.NumericalError, /NaN at step 3/, name);
    assert.is(st.step, 3);
  }
});

test('a non-finite gradient → NumericalError with the step', () => {
  const s = bt.sgmcmc.sgld.build((p: bt.Tensor) => [p.sqrt().sum(), []], { lr: 0.01 });
  const st = s.init(bt.tensor([0, 1]));
  throwsType(() => s.update(st, null, key), bt.NumericalError, /gradient.*non-finite.*step 0/, 'sqrt at 0');
});

test('a malformed logPosterior return → ConfigError', () => {
  const s = bt.sgmcmc.sgld.build(((p: bt.Tensor) => p.sum()) as never, { lr: 0.01 });
  throwsType(() => s.update(s.init(bt.tensor([1])), null, key), bt.ConfigError, /must return \[value, aux\]/, 'no aux');
});

test('mismatched pytrees → ShapeError naming both structures or shapes', () => {
  const params = { a: bt.tensor([1, 2]), b: bt.tensor([[1]]) };
  const lp2 = (p: typeof params): [bt.Tensor, never[]] => [p.a.sum().add(p.b.sum()), []];
  const s = bt.sgmcmc.sghmc.build(lp2, { lr: 0.1, momenta: { a: bt.zeros([2]), c: bt.zeros([1, 1]) } });
  throwsType(() => s.init(params), bt.ShapeError, /different structures: \{a: \*, b: \*\} vs \{a: \*, c: \*\}/, 'keys');
  const s2 = bt.sgmcmc.sghmc.build(lp2, { lr: 0.1, momenta: { a: bt.zeros([3]), b: bt.zeros([1, 1]) } });
  throwsType(() => s2.init(params), bt.ShapeError, /leaf 0 of momenta has shape \[3\].*params leaf has shape \[2\]/, 'leaf shape');
  const s3 = bt.sgmcmc.sghmc.build(lp2, { lr: 0.1, momenta: 0 });
  const st = s3.init(params);
  throwsType(() => s3.update({ ...st, momenta: { a: st.momenta.a } } as never, null, key), bt.ShapeError, /params and state.momenta have different structures/, 'state');
  const sp = bt.sgmcmc.parallel(bt.sgmcmc.sgld.build(lp, { lr: 0.1 }), { chains: 4 });
  throwsType(() => sp.init(bt.zeros([3, 2])), bt.ShapeError, /shape \[3, 2\].*leading chain axis of size 4/, 'chains');
});

test('negative lr (constant or scheduled) → ConfigError naming the value', () => {
  throwsType(() => bt.sgmcmc.sghmc.build(lp, { lr: -0.1 }), bt.ConfigError, /lr must be ≥ 0, got -0.1/, 'constant');
  throwsType(() => bt.sgmcmc.sgld.build(lp, { lr: -1e-3 }), bt.ConfigError, /lr must be ≥ 0, got -0.001/, 'sgld');
  const s = bt.sgmcmc.sgld.build(lp, { lr: (t) => (t < 3 ? 0.01 : -0.005) });
  let st = s.init(bt.tensor([1]));
  for (let t = 0; t < 3; t++) st = s.update(st, null, key)[0];
  throwsType(() => s.update(st, null, key), bt.ConfigError, /lr must be ≥ 0, got -0.005 \(schedule value at step 3\)/, 'schedule');
  throwsType(() => bt.sgmcmc.sghmc.build(lp, { lr: NaN }), bt.ConfigError, /lr must be a finite number, got NaN/, 'NaN');
  throwsType(() => bt.sgmcmc.sghmc.build(lp, {} as never), bt.ConfigError, /'lr' is required/, 'missing');
  throwsType(() => bt.sgmcmc.sghmc.build(lp, { lr: 0.1, sigma: 0 }), bt.ConfigError, /sigma must be > 0, got 0/, 'sigma');
  throwsType(() => bt.sgmcmc.baoa.build(lp, { lr: 0.1, temperature: -1 }), bt.ConfigError, /temperature must be ≥ 0, got -1/, 'temperature');
});

test('β > 2α/(Tε) (imaginary noise) → ConfigError naming β, α, T and ε', () => {
  throwsType(() => bt.sgmcmc.sghmc.build(lp, { lr: 0.1, alpha: 0.01, beta: 1 }), bt.ConfigError, /beta = 1 > 2·alpha\/\(T·lr\) = 0.2 \(T = 1, lr = 0.1, alpha = 0.01, at step 0\).*imaginary/, 'sghmc');
  throwsType(() => bt.sgmcmc.sgnht.build(lp, { lr: 0.1, alpha: 0.01, beta: 1 }), bt.ConfigError, /imaginary/, 'sgnht');
  throwsType(() => bt.sgmcmc.sgld.build(lp, { lr: 0.5, beta: 5 }), bt.ConfigError, /beta = 5 > 2\/\(T·lr\) = 4 .*imaginary/, 'sgld');
  bt.sgmcmc.sghmc.build(lp, { lr: 0.1, alpha: 0.01, beta: 0.2 }); // exactly 2α/(Tε): zero noise, allowed
  // with a schedule the check runs at each step
  const s = bt.sgmcmc.sghmc.build(lp, { lr: (t) => 0.05 * (t + 1), alpha: 0.01, beta: 0.3, momenta: 0 });
  let st = s.init(bt.tensor([1]));
  st = s.update(st, null, key)[0];
  throwsType(() => s.update(st, null, key), bt.ConfigError, /at step 1\).*imaginary/, 'schedule');
});

test('unknown options → ConfigError naming the option', () => {
  throwsType(() => bt.sgmcmc.sghmc.build(lp, { lr: 0.1, friction: 1 } as never), bt.ConfigError, /unknown option 'friction'/, 'sghmc');
  throwsType(() => bt.sgmcmc.baoa.build(lp, { lr: 0.1, beta: 0 } as never), bt.ConfigError, /unknown option 'beta'/, 'baoa has no beta');
  throwsType(() => bt.sgmcmc.sgld.build(lp, { lr: 0.1, alpha: 1 } as never), bt.ConfigError, /unknown option 'alpha'/, 'sgld');
  throwsType(() => bt.sgmcmc.collect({ burnin: 5 } as never), bt.ConfigError, /unknown option 'burnin'/, 'collect');
  throwsType(() => bt.sgmcmc.parallel(bt.sgmcmc.sgld.build(lp, { lr: 0.1 }), { chains: 2, chainz: 1 } as never), bt.ConfigError, /unknown option 'chainz'/, 'parallel');
});

test('missing keys → ConfigError saying what needs one', () => {
  const s = bt.sgmcmc.sghmc.build(lp, { lr: 0.1 });
  throwsType(() => s.init(bt.tensor([1])), bt.ConfigError, /momenta default to N\(0, 1\) draws, so init needs a key/, 'init');
  const st = s.init(bt.tensor([1]), key);
  throwsType(() => s.update(st, null), bt.ConfigError, /draws noise, so update needs a key/, 'update');
  throwsType(() => s.init([1, 2] as never, key), bt.ConfigError, /leaf 0 of params is number/, 'numbers as params');
});

test('run: an async loop rejects bad options and stops at a NaN with the step', async () => {
  const s = bt.sgmcmc.sgld.build((p: bt.Tensor, b: number) => [b >= 7 ? p.sum().mul(NaN) : p.square().sum().mul(-0.5), []], { lr: 0.01 });
  const st = s.init(bt.tensor([1, 2]));
  try {
    await bt.sgmcmc.run(s, st, { steps: 20, key, batches: (t) => t });
    assert.unreachable('no throw');
  } catch (e) {
    assert.instance(e, bt.NumericalError);
    assert.match((e as Error).message, /step 7/);
  }
  try {
    await bt.sgmcmc.run(s, st, { steps: 2, key, nsteps: 3 } as never);
    assert.unreachable('no throw');
  } catch (e) {
    assert.instance(e, bt.ConfigError);
    assert.match((e as Error).message, /unknown option 'nsteps'/);
  }
});

test('NaN in the data → NumericalError naming the batch entry, not the learning rate', () => {
  const lpData = (p: bt.Tensor, b: { x: bt.Tensor }): [bt.Tensor, never[]] => [p.mul(b.x).sum().sub(p.square().sum().mul(0.5)), []];
  const batch = { x: bt.tensor([[1, 2], [3, NaN]]) };
  for (const name of NAMES) {
    const s = buildAny(name, lpData as never);
    const st = s.init(bt.tensor([1, 2]), key);
    throwsType(() => s.update(st as never, batch, key), bt.NumericalError, /NaN at step 0.*batch\.x\[1, 1\] = NaN.*the data, not the step size/, name);
  }
  const sp = bt.sgmcmc.parallel(bt.sgmcmc.sgld.build(lpData, { lr: 0.01 }), { chains: 2 });
  throwsType(() => sp.update(sp.init(bt.zeros([2, 2])), batch, key), bt.NumericalError, /in chain 0.*batch\.x\[1, 1\] = NaN/, 'parallel');
  // finite data: the message stays about the model and the step size
  const s = bt.sgmcmc.sgld.build((p: bt.Tensor) => [p.sum().mul(NaN), []], { lr: 0.01 });
  throwsType(() => s.update(s.init(bt.tensor([1])), { x: bt.tensor([1]) }, key), bt.NumericalError, /NaN at step 0.*smaller learning rate/, 'finite data');
});

test('build(lp) without options → ConfigError naming the required lr; other bad arguments are ConfigErrors too', () => {
  for (const name of NAMES) {
    const b = (bt.sgmcmc[name] as typeof bt.sgmcmc.sghmc).build;
    throwsType(() => (b as (lp: unknown) => unknown)(lp), bt.ConfigError, new RegExp(`^${name}\\.build: option 'lr' is required`), name);
    throwsType(() => b(lp, 5 as never), bt.ConfigError, /options must be an object with at least lr/, `${name} options 5`);
    throwsType(() => b(5 as never, { lr: 0.1 }), bt.ConfigError, /logPosterior must be a function/, `${name} lp 5`);
  }
});

test('checks of constant options at build time are named build, not update', () => {
  throwsType(() => bt.sgmcmc.sghmc.build(lp, { lr: 0.1, alpha: 0.01, beta: 1 }), bt.ConfigError, /^sghmc\.build: beta = 1/, 'sghmc');
  throwsType(() => bt.sgmcmc.sgld.build(lp, { lr: 0.5, beta: 5 }), bt.ConfigError, /^sgld\.build: beta = 5/, 'sgld');
  // a schedule is checked when it is evaluated, at update
  const s = bt.sgmcmc.sghmc.build(lp, { lr: (t) => 0.05 * (t + 1), alpha: 0.01, beta: 0.3, momenta: 0 });
  const st = s.update(s.init(bt.tensor([1])), null, key)[0];
  throwsType(() => s.update(st, null, key), bt.ConfigError, /^sghmc\.update: beta = 0.3/, 'schedule');
});

test.run();
