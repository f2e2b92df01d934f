/** Bad input to bt.ns: typed errors naming what was wrong, raised before sampling where possible. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as bt from '../../../src/index.js';
import { throwsType } from '../../helpers.js';
import { basic } from '../../../examples/ns/problems.js';

const { Prior, Model, NestedSampler } = bt.ns;

const rejectsType = async (f: () => Promise<unknown>, type: Function, re: RegExp) => {
  try {
    await f();
  } catch (e) {
    assert.instance(e, type);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable('expected an error');
};

const oneLike = (p: bt.ns.Prior, ll: (x: bt.Tensor) => bt.Tensor = (x) => bt.neg(bt.sum(bt.square(x)))) =>
  new Model({
    priorModel: function* () {
      return yield p;
    },
    logLikelihood: ll,
  });

test('invalid prior parameters: ConfigError naming the prior and the parameter', () => {
  throwsType(() => oneLike(new Prior({ dist: 'Normal', loc: 0, scale: -1 }, 'sigmaBad')), bt.ConfigError, /sigmaBad.*scale/);
  throwsType(() => oneLike(new Prior({ dist: 'Uniform', low: 1, high: 0 }, 'u')), bt.ConfigError, /'u'.*high/);
  throwsType(() => oneLike(new Prior({ dist: 'Exponential', rate: NaN }, 'r')), bt.ConfigError, /'r'.*rate/);
  throwsType(() => new Prior({ dist: 'Weibull', concentration: 1 } as never, 'g'), bt.ConfigError, /'g'.*unknown family 'Weibull'/);
  throwsType(() => new Prior({ dist: 'Normal', loc: 0, sigma: 1 } as never, 'n'), bt.ConfigError, /'n'.*no parameter 'sigma'/);
});

test('a non-scalar likelihood is a ShapeError before sampling', () => {
  throwsType(() => oneLike(new Prior({ dist: 'Normal', loc: bt.zeros([3], 'float64'), scale: 1 }, 'x'), (x) => bt.neg(bt.square(x))), bt.ShapeError, /scalar.*\[3\]/);
});

test('NaN or +∞ likelihood: NumericalError naming the point; −∞ is a zero likelihood', async () => {
  // L = NaN for x > 0.9
  const nanModel = oneLike(new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x'), (x) => bt.where(bt.greater(x, 0.9), NaN, bt.neg(bt.square(x))));
  await rejectsType(() => new NestedSampler(nanModel).run(bt.random.key(0)), bt.NumericalError, /NaN at U = \[0\.9.*x = \[/);
  // a NaN that appears only above a contour reached after some shells: the error carries the results so far
  const late = oneLike(new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x'), (x) => bt.where(bt.less(x, 0.01), NaN, bt.neg(bt.square(x))));
  try {
    await new NestedSampler(late).run(bt.random.key(0));
    assert.unreachable('expected a NumericalError');
  } catch (e) {
    assert.instance(e, bt.NumericalError);
    const r = (e as { results?: bt.ns.NestedSamplerResults }).results;
    assert.ok(r && r.totalNumSamples >= 30 && Number.isFinite(r.logZMean), 'results so far kept');
  }
  const infModel = oneLike(new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x'), (x) => bt.where(bt.greater(x, 0.9), Infinity, bt.neg(bt.square(x))));
  await rejectsType(() => new NestedSampler(infModel).run(bt.random.key(0)), bt.NumericalError, /Infinity at U/);
  // log L = −∞ on half the cube: Z = ½, log Z = −log 2
  const half = oneLike(new Prior({ dist: 'Uniform', low: 0, high: 1 }, 'x'), (x) => bt.where(bt.greater(x, 0.5), -Infinity, bt.mul(0, x)));
  const r = await new NestedSampler(half, { numLivePoints: 100 }).run(bt.random.key(0));
  assert.ok(Math.abs(r.logZMean + Math.LN2) <= 3 * r.logZUncert, `log Z ${r.logZMean} ± ${r.logZUncert}`);
});

test('no free dimensions: ConfigError', () => {
  throwsType(
    () =>
      new Model({
        priorModel: function* () {
          return bt.tensor(1);
        },
        logLikelihood: (x: bt.Tensor) => x,
      }),
    bt.ConfigError,
    /no free dimensions/,
  );
});

test('unknown options, bad option values and a bad key: ConfigError', async () => {
  const m = basic();
  throwsType(() => new NestedSampler(m, { numLivepoints: 10 } as never), bt.ConfigError, /unknown option 'numLivepoints'/);
  throwsType(() => new NestedSampler(m, { shellFraction: 1.5 }), bt.ConfigError, /shellFraction/);
  throwsType(() => new NestedSampler(m, { numLivePoints: 0 }), bt.ConfigError, /numLivePoints/);
  throwsType(() => new NestedSampler(m, { maxSamples: 40 }), bt.ConfigError, /maxSamples = 40 leaves no room for one shell: it must be at least c \+ m·\(k\+1\) = 45/);
  throwsType(() => new NestedSampler(m, { maxSamples: 1e3 + 0.5 }), bt.ConfigError, /maxSamples must be a positive integer/);
  throwsType(() => new NestedSampler(m, { k: 5 }), bt.ConfigError, /k = 5 phantoms.*below s·D = 5/);
  throwsType(() => new NestedSampler(m, { k: 1.5 }), bt.ConfigError, /k \(phantoms per chain\)/);
  throwsType(() => new NestedSampler(m, { parameterEstimation: 1 } as never), bt.ConfigError, /parameterEstimation must be a boolean/);
  throwsType(() => new Model({ priorModel: function* () {}, logLikelihood: () => 0, extra: 1 } as never), bt.ConfigError, /unknown option 'extra'/);
  await rejectsType(() => new NestedSampler(m).run(bt.random.key(0), { terminationCond: { dlogz: 0.1 } as never }), bt.ConfigError, /unknown termination condition 'dlogz'/);
  await rejectsType(() => new NestedSampler(m).run(bt.random.key(0), { tolerance: 1 } as never), bt.ConfigError, /unknown option 'tolerance'/);
  await rejectsType(() => new NestedSampler(m).run(3 as never), bt.ConfigError, /PRNG key/);
});

test.run();
