import { sizeOf } from '../../../shape.js';
import { BackendError } from '../../../errors.js';
import type { OutSpec } from '../../backend.js';
import { bindings, grid, memoCode, wgslType, type GpuInput, type GpuKernel } from './common.js';

/**
 * Kernels for user primitives (definePrimitive({ impl: { webgpu } })). Two forms:
 *
 * 1. A WGSL spec object:
 *      { shader: string, workgroupSize?: number, threads?: (inputs, params, outs) => number,
 *        meta?: (inputs, params, outs) => number[] }
 *    `shader` is the body of a compute entry point; the backend wraps it as
 *      @compute @workgroup_size(W) fn main(...) { let i = <linear invocation index>; if (i >= n) { return; } <shader> }
 *    with bindings `in0`, `in1`, ... (read-only, `array<f32|i32>` by dtype), `out0`, `out1`, ...
 *    (read-write) and `mt: array<u32>` holding [n, ...meta(...)] (n = threads, default the size
 *    of output 0). Example (a scaled square): { shader: 'out0[i] = in0[i] * in0[i] * 2.0;' }.
 *    Extra WGSL functions may be given as `functions: string`.
 * 2. A function (ctx, inputs, params, outs) => handles, the same signature as the built-in
 *    kernels (see kernels/common.ts), for full control.
 */
export interface WgslKernelSpec {
  shader: string;
  functions?: string;
  workgroupSize?: number;
  threads?: (inputs: GpuInput[], params: unknown, outs: readonly OutSpec[]) => number;
  meta?: (inputs: GpuInput[], params: unknown, outs: readonly OutSpec[]) => number[];
}

const KNOWN = new Set(['shader', 'functions', 'workgroupSize', 'threads', 'meta']);

export function userKernel(op: string, kernel: unknown): GpuKernel {
  if (typeof kernel === 'function') return kernel as GpuKernel;
  if (!kernel || typeof kernel !== 'object' || typeof (kernel as WgslKernelSpec).shader !== 'string') {
    throw new BackendError(
      `registerKernel('${op}'): a webgpu kernel is { shader: '<WGSL statements using in0.., out0.., i>' , ... } or a function (ctx, inputs, params, outs) => handles.`,
    );
  }
  for (const k of Object.keys(kernel)) {
    if (!KNOWN.has(k)) throw new BackendError(`registerKernel('${op}'): unknown key '${k}' in the webgpu kernel (known: ${[...KNOWN].join(', ')}).`);
  }
  const spec = kernel as WgslKernelSpec;
  const wg = spec.workgroupSize ?? 64;
  return (ctx, inputs, params, outs) => {
    const handles = outs.map((o) => ctx.output(o));
    const n = spec.threads ? spec.threads(inputs, params, outs) : sizeOf(outs[0]!.shape);
    if (n === 0) return handles;
    const decls = bindings([
      ...inputs.map((x, i) => ({ name: `in${i}`, type: wgslType(x.dtype) })),
      ...outs.map((o, i) => ({ name: `out${i}`, type: wgslType(o.dtype), write: true })),
    ]);
    const code = memoCode(`user|${op}|${inputs.map((x) => x.dtype).join(',')}|${outs.map((o) => o.dtype).join(',')}`, () => `${decls}
${spec.functions ?? ''}
@compute @workgroup_size(${wg}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ${wg}u;
  if (i >= mt[0]) { return; }
  ${spec.shader}
}`);
    const meta = [n, ...(spec.meta ? spec.meta(inputs, params, outs) : [])];
    ctx.dispatch(
      code,
      [...inputs.map((x) => x.buffer), ...handles.map((h) => h.buffer)],
      [...inputs.map(() => 'r' as const), ...outs.map(() => 'w' as const)],
      meta,
      grid(Math.ceil(n / wg)),
    );
    return handles;
  };
}
