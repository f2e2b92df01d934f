import { Tensor } from '../tensor.js';
import { BackendError } from '../errors.js';
import type { Backend } from '../backends/backend.js';
import type { Program } from './ir.js';
import { isCpuBackend } from '../backends/cpu/jit-access.js';
import { compileCpu } from './cpu/compile.js';
import { isWebgpuBackend } from '../backends/webgpu/jit-access.js';
import { compileWebgpu, type WebgpuJitOptions } from './webgpu/compile.js';

/**
 * A compiled program: call it with the input tensors (the program's invars, in order); it
 * returns new tensors the caller owns. `dispose` frees what the program holds between calls.
 */
export interface Executable {
  (inputs: Tensor[]): Tensor[];
  readonly program: Program;
  /** Frees the buffers the program keeps between calls (its arena); the consts stay with the program. */
  readonly dispose?: () => void;
  /**
   * The compiled steps in words: fused loops (CPU) or fused kernels (WebGPU) and the kernels
   * between them; for a WebGPU program that is interpreted, one line saying why.
   */
  readonly steps?: readonly string[];
  /** Bytes of the buffers the program keeps between calls (CPU and WebGPU compilers). */
  readonly arenaBytes?: number;
}

/**
 * Which compilers `compile` uses; turning one off interprets that backend's programs, and how a
 * WebGPU program submits (see WebgpuJitOptions). Read when a program is traced: bench/jit-webgpu.ts
 * compares the variants; tests and debugging may too.
 */
export const jitCompilers: { webgpu: boolean; webgpuSubmit: WebgpuJitOptions['submit'] } = { webgpu: true, webgpuSubmit: 'own' };

/**
 * Compiles a traced program for `backend`: on the CPU backend into fused loops over a planned
 * arena (./cpu/compile.ts); on WebGPU into recorded kernels replayed as one command buffer per
 * call (./webgpu/compile.ts); elsewhere (and for what those compilers cannot address) an interpreter.
 */
export function compile(prog: Program, backend: Backend): Executable {
  if (isCpuBackend(backend)) {
    const exec = compileCpu(prog, backend);
    if (exec) return exec;
  }
  if (isWebgpuBackend(backend)) {
    const exec = jitCompilers.webgpu ? compileWebgpu(prog, backend, { submit: jitCompilers.webgpuSubmit }) : 'it is turned off (jitCompilers.webgpu)';
    if (typeof exec !== 'string') return exec;
    const interpreted = interpret(prog, backend);
    Object.defineProperty(interpreted, 'steps', { value: [`interpreted op by op (the webgpu compiler cannot take it: ${exec})`] });
    return interpreted;
  }
  return interpret(prog, backend);
}

/**
 * Runs a traced program straight against a backend's kernels: handles in a flat array, no Tensor
 * objects, no trace lookup and no tape per op. A buffer plan computed once (the last equation
 * reading each variable) releases every intermediate as soon as nothing later needs it. The same
 * kernels run in the same order as eager dispatch, so results are bitwise equal.
 */
export function interpret(prog: Program, backend: Backend): Executable {
  const nvars = prog.avals.length;
  for (const e of prog.eqns) {
    if (e.prim.view || backend.hasKernel(e.prim.name)) continue;
    const kernel = (e.prim as { impl?: Record<string, unknown> }).impl?.[backend.name];
    if (kernel) backend.registerKernel(e.prim.name, kernel);
    else throw new BackendError(`jit: op '${e.prim.name}' has no kernel on backend '${backend.name}'. Run it on a backend that has one or give definePrimitive an impl for '${backend.name}'.`);
  }
  // Buffer plan: after equation i, release the variables whose last reader is i (never inputs,
  // consts or outputs: their storage belongs to the caller or to the program).
  const pinned = new Set<number>([...prog.invars, ...prog.constvars, ...prog.outvars]);
  const lastUse = new Int32Array(nvars).fill(-1);
  prog.eqns.forEach((e, i) => {
    for (const v of e.inputs) lastUse[v] = i;
  });
  const frees: number[][] = prog.eqns.map(() => []);
  prog.eqns.forEach((e, i) => {
    for (const v of e.outputs) if (!pinned.has(v)) (lastUse[v]! < 0 ? frees[i]! : frees[lastUse[v]!]!).push(v);
  });
  const infos = prog.eqns.map((e) => e.inputs.map((v) => ({ shape: prog.avals[v]!.shape, dtype: prog.avals[v]!.dtype, handle: null as unknown })));
  const outAvals = prog.eqns.map((e) => e.outputs.map((v) => prog.avals[v]!));
  const constHandles = prog.consts.map((c) => c.concrete()._handle);

  const exec = ((inputs: Tensor[]): Tensor[] => {
    const h: unknown[] = new Array(nvars);
    for (let i = 0; i < inputs.length; i++) h[prog.invars[i]!] = inputs[i]!.concrete()._handle;
    for (let i = 0; i < constHandles.length; i++) h[prog.constvars[i]!] = constHandles[i];
    const eqns = prog.eqns;
    for (let i = 0; i < eqns.length; i++) {
      const e = eqns[i]!;
      if (e.prim.view) {
        h[e.outputs[0]!] = backend.share(h[e.inputs[0]!]);
      } else {
        // Fresh info objects per call: a lazy backend (WebGPU fusion) may hold on to them.
        const tmpl = infos[i]!;
        const info = tmpl.map((t, k) => ({ shape: t.shape, dtype: t.dtype, handle: h[e.inputs[k]!] }));
        const outs = backend.run(e.prim.name, info, e.params, outAvals[i]!);
        for (let k = 0; k < outs.length; k++) h[e.outputs[k]!] = outs[k];
      }
      const fr = frees[i]!;
      for (let k = 0; k < fr.length; k++) backend.release(h[fr[k]!]);
    }
    // An output that is an input or const (or repeated) gets its own reference to the storage.
    const owned = new Set<number>();
    return prog.outvars.map((v) => {
      const av = prog.avals[v]!;
      const produced = !prog.invars.includes(v) && !prog.constvars.includes(v) && !owned.has(v);
      owned.add(v);
      return new Tensor(av.shape, av.dtype, produced ? h[v] : backend.share(h[v]), backend);
    });
  }) as Executable;
  Object.defineProperty(exec, 'program', { value: prog });
  return exec;
}
