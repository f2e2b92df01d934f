import { bytesPerElement, type DType, type TypedArray } from '../../dtype.js';
import { BackendError } from '../../errors.js';
import type { Aval, CpuInput, CpuKernel } from '../../autodiff/primitive.js';
import type { Eqn } from '../ir.js';

type Run = (B: unknown[]) => void;
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * An op the compiler does not generate code for (linalg, random, special functions, user
 * primitives): it calls the kernel eager dispatch would call, which allocates its own outputs.
 * Input descriptors are made once and refilled each call. `own` is false for a user kernel, whose
 * outputs get the checks backend.run makes.
 */
export function kernelStep(e: Eqn, avals: readonly Aval[], root: Int32Array, kernel: CpuKernel, own: boolean): Run {
  const ins = e.inputs.map((u) => root[u]!);
  const args: { data: TypedArray | null; shape: readonly number[]; dtype: DType }[] = e.inputs.map((u) => ({ data: null, shape: avals[u]!.shape, dtype: avals[u]!.dtype }));
  const outs = e.outputs.map((v) => avals[v]!);
  const op = e.prim.name;
  return (Bf) => {
    for (let k = 0; k < ins.length; k++) args[k]!.data = Bf[ins[k]!] as TypedArray;
    const res = kernel(args as CpuInput[], e.params, outs);
    const list = Array.isArray(res) ? res : [res];
    if (!own) checkUserOutputs(op, list, args as CpuInput[], outs);
    for (let k = 0; k < list.length; k++) Bf[e.outputs[k]!] = list[k];
  };
}

/** A user kernel's outputs: the checks backend.run makes (count, size, dtype; a copy if it returned an input). */
function checkUserOutputs(op: string, list: TypedArray[], args: CpuInput[], outs: readonly { shape: readonly number[]; dtype: DType }[]): void {
  if (list.length !== outs.length) throw new BackendError(`cpu kernel '${op}' returned ${list.length} outputs, expected ${outs.length}.`);
  for (let i = 0; i < list.length; i++) {
    const out = list[i]!;
    if (args.some((a) => a.data.buffer === out.buffer) || list.some((o, j) => j < i && o.buffer === out.buffer)) list[i] = out.slice();
    const spec = outs[i]!;
    if (list[i]!.length !== sizeOf(spec.shape) || bytesPerElement(spec.dtype) !== list[i]!.BYTES_PER_ELEMENT) {
      throw new BackendError(`cpu kernel '${op}' output ${i}: got ${out.constructor.name}(${out.length}), expected ${spec.dtype} of shape [${spec.shape.join(', ')}].`);
    }
  }
}
