import { allocArray, bytesPerElement, type DType, type TypedArray } from '../../dtype.js';
import { BackendError } from '../../errors.js';
import type { CpuKernel } from '../../autodiff/primitive.js';
import type { Backend, OutSpec, TensorInfo } from '../backend.js';
import { cpuKernels } from './kernels.js';
import { recycle } from './pool.js';
import { isInPlaceAppend } from './growable.js';

/** A CPU buffer: a typed array shared by views (reshape) and freed when no tensor refers to it. */
interface CpuBuffer {
  data: TypedArray;
  refs: number;
}

export class CpuBackend implements Backend {
  readonly name = 'cpu';
  private kernels = new Map<string, CpuKernel>(Object.entries(cpuKernels));
  private bytes = 0;
  private buffers = 0;

  private wrap(data: TypedArray): CpuBuffer {
    this.bytes += data.byteLength;
    this.buffers++;
    return { data, refs: 1 };
  }

  upload(values: TypedArray, dtype: DType): CpuBuffer {
    const data = allocArray(dtype, values.length);
    data.set(values);
    return this.wrap(data);
  }

  share(handle: unknown): CpuBuffer {
    const b = handle as CpuBuffer;
    b.refs++;
    return b;
  }

  release(handle: unknown): void {
    const b = handle as CpuBuffer;
    if (--b.refs === 0) {
      this.bytes -= b.data.byteLength;
      this.buffers--;
      recycle(b.data);
    }
  }

  async read(handle: unknown, dtype: DType, size: number): Promise<TypedArray> {
    return this.readSync(handle, dtype, size);
  }

  /** A copy, so callers can never corrupt a tensor through the returned array. */
  readSync(handle: unknown, _dtype: DType, _size: number): TypedArray {
    return (handle as CpuBuffer).data.slice();
  }

  /** @internal zero-copy access for engine internals that promise not to write. */
  peek(handle: unknown): TypedArray {
    return (handle as CpuBuffer).data;
  }

  hasKernel(op: string): boolean {
    return this.kernels.has(op);
  }

  registerKernel(op: string, kernel: unknown): void {
    if (typeof kernel !== 'function') throw new BackendError(`registerKernel('${op}'): the CPU kernel must be a function (inputs, params, outs) => TypedArray | TypedArray[].`);
    this.kernels.set(op, kernel as CpuKernel);
  }

  run(op: string, inputs: readonly TensorInfo[], params: unknown, outs: readonly OutSpec[]): unknown[] {
    const kernel = this.kernels.get(op);
    if (!kernel) throw new BackendError(`op '${op}' has no kernel on backend 'cpu'.`);
    const args = inputs.map((i) => ({ data: (i.handle as CpuBuffer).data, shape: i.shape, dtype: i.dtype }));
    const res = kernel(args, params, outs as OutSpec[]);
    const list = Array.isArray(res) ? res : [res];
    if (list.length !== outs.length) {
      throw new BackendError(`cpu kernel '${op}' returned ${list.length} outputs, expected ${outs.length}.`);
    }
    return list.map((out, i) => {
      const spec = outs[i]!;
      // a kernel (a user's, say) may hand back an input or another output: own a copy, so that
      // recycling one buffer can never corrupt another tensor
      // (an in-place append shares its first input's storage by design: growable.ts)
      const aliased = !isInPlaceAppend(out) && (inputs.some((inp) => (inp.handle as CpuBuffer).data.buffer === out.buffer) || list.some((o, j) => j < i && o.buffer === out.buffer));
      const data = aliased ? out.slice() : out;
      let size = 1;
      for (const d of spec.shape) size *= d;
      if (data.length !== size || bytesPerElement(spec.dtype) !== data.BYTES_PER_ELEMENT || !sameKind(data, spec.dtype)) {
        throw new BackendError(
          `cpu kernel '${op}' output ${i}: got ${data.constructor.name}(${data.length}), expected ${spec.dtype} of shape [${spec.shape.join(', ')}].`,
        );
      }
      return this.wrap(data);
    });
  }

  memory(): { numBytes: number; numBuffers: number } {
    return { numBytes: this.bytes, numBuffers: this.buffers };
  }
}

function sameKind(a: TypedArray, dtype: DType): boolean {
  return dtype === 'float64' ? a instanceof Float64Array : dtype === 'float32' ? a instanceof Float32Array : a instanceof Int32Array;
}
