/** Shared defaults of the Distribution families (internal). */
import type { Tensor } from '../tensor.js';
import type { PyTree } from '../autodiff/tree.js';
import type { FloatDType } from '../dtype.js';
import { stopGradient } from '../autodiff/ops/special.js';
import type { Distribution } from './types.js';
import { checkSampleShape } from './util.js';
import { checkKey } from '../random.js';

export abstract class DistributionBase implements Distribution {
  abstract readonly eventShape: readonly number[];
  abstract readonly batchShape: readonly number[];
  abstract readonly dtype: FloatDType;
  abstract logProb(x: Tensor): Tensor;
  abstract entropy(): Tensor;
  abstract mean(): Tensor;
  abstract params(): PyTree;
  abstract withParams(p: PyTree): Distribution;
  /** reparameterised draws with the key and sample shape already checked */
  protected abstract draw(key: Tensor, sampleShape: number[]): Tensor;

  protected get name(): string {
    return this.constructor.name;
  }

  rsample(key: Tensor, sampleShape?: readonly number[]): Tensor {
    const op = `distributions.${this.name}.rsample`;
    return this.draw(checkKey(op, key), checkSampleShape(op, sampleShape));
  }

  sample(key: Tensor, sampleShape?: readonly number[]): Tensor {
    const op = `distributions.${this.name}.sample`;
    return stopGradient(this.draw(checkKey(op, key), checkSampleShape(op, sampleShape)));
  }

  rsampleAndLogProb(key: Tensor, sampleShape?: readonly number[]): [Tensor, Tensor] {
    const x = this.rsample(key, sampleShape);
    return [x, this.logProb(x)];
  }
}
