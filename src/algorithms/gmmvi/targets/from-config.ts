/**
 * The target of an experiment config (gmmvi's `environment_name` / `environment_config`), for the
 * targets we can build: GMM, DIAGGMM, STM, breastCancer(_mb) (data passed in: the library reads no
 * files), PlanarRobot1/4. GermanCredit, WINE and Talos need data or libraries we do not ship.
 */
import type { Tensor } from '../../../tensor.js';
import { ConfigError } from '../../../errors.js';
import type { LNPDF } from '../target.js';
import { makeGmmTarget } from './gmm-target.js';
import { makeDiagGmmTarget } from './helpers-2d.js';
import { makeStmTarget } from './student-t-mixture.js';
import { logisticRegressionTarget } from './logistic-regression.js';
import { planarRobotTarget } from './planar-robot.js';

/** Builds the config's target; generated targets are drawn from `key` (our PRNG, not gmmvi's numbers). */
export function targetFromConfig(config: Record<string, unknown>, key: Tensor, data?: { features: number[][]; labels: number[] }): LNPDF {
  const op = 'gmmvi.targetFromConfig';
  const name = config.environment_name;
  const env = (config.environment_config ?? {}) as Record<string, unknown>;
  const dim = () => {
    const d = env.num_dimensions;
    if (!Number.isInteger(d)) throw new ConfigError(`${op}: environment_config.num_dimensions must be an integer for ${String(name)}, got ${String(d)}.`);
    return d as number;
  };
  const needData = () => {
    if (!data) throw new ConfigError(`${op}: ${String(name)} needs its data ({ features, labels }; examples/data/breast-cancer.csv).`);
    return data;
  };
  switch (name) {
    case 'GMM': return makeGmmTarget(dim(), key);
    case 'DIAGGMM': return makeDiagGmmTarget(dim(), key);
    case 'STM': return env.harder_setting ? makeStmTarget(dim(), key, { numComponents: 20, meanRange: 25 }) : makeStmTarget(dim(), key);
    case 'breastCancer': { const d = needData(); return logisticRegressionTarget(d.features, d.labels); }
    case 'breastCancer_mb': { const d = needData(); return logisticRegressionTarget(d.features, d.labels, { minibatchSize: (env.batch_size as number | undefined) ?? 64, key }); }
    case 'PlanarRobot1': return planarRobotTarget(1);
    case 'PlanarRobot4': return planarRobotTarget(4);
    default: throw new ConfigError(`${op}: no target '${String(name)}' (known: GMM, DIAGGMM, STM, breastCancer, breastCancer_mb, PlanarRobot1, PlanarRobot4; GermanCredit, WINE and Talos need data we do not ship).`);
  }
}
