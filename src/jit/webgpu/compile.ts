/// <reference types="@webgpu/types" />
import { bytesPerElement } from '../../dtype.js';
import { sizeOf } from '../../shape.js';
import { FUSABLE, type WebGPUBackend } from '../../backends/webgpu/backend.js';
import { computedBuffer, gpuKernelOf } from '../../backends/webgpu/jit-access.js';
import { fusedKernel, type FusedExpr, type FusedNode } from '../../backends/webgpu/fusion.js';
import { expressionFor } from '../../backends/webgpu/kernels/elementwise.js';
import { threadGrid, type GpuInput } from '../../backends/webgpu/kernels/common.js';
import type { Eqn, Program } from '../ir.js';
import type { Executable } from '../run.js';
import { planProgram } from './plan.js';
import { NotRecordable, Recorder } from './record.js';
import { replayExecutable, webgpuJitStats, type WebgpuJitOptions } from './replay.js';
import type { Tensor } from '../../tensor.js';

export { webgpuJitStats, type WebgpuJitOptions } from './replay.js';

/**
 * Compiles a traced program for the WebGPU backend into one command buffer per call.
 *
 * At compile time: the fusion plan (./plan.ts) says which elementwise values are computed and
 * which are inlined; walking the program once, each computed elementwise value becomes a fused
 * kernel (the backend's own code generator, fusion.ts) and every other op calls its built-in
 * kernel with a recording context (./record.ts), so its dispatches, copies and clears are kept
 * with their pipelines, bind groups and metadata buffers, all built now. Every buffer is the
 * program's own (an arena, reused by values whose lifetimes do not overlap), inputs included.
 *
 * Per call (./replay.ts): pending work on the inputs is submitted, then one command encoder
 * copies the inputs into their arena slots, replays the recorded commands, copies the outputs
 * into fresh pooled buffers (the caller owns them), and is submitted once (or, with
 * `submit: 'shared'`, the same commands go into the backend's open encoder; see WebgpuJitOptions).
 *
 * Kernels with deferred checks (cholesky's pivots, take's index range: KernelContext.status) get
 * status words of the program's own, read back after each call's submit like the backend's, so
 * a failure is thrown at the next read or sync as in eager mode.
 *
 * Returns a reason string instead when the program cannot be compiled (a zero-size or float64
 * value, a user kernel): the caller interprets it.
 */
export function compileWebgpu(prog: Program, backend: WebGPUBackend, opts: WebgpuJitOptions = { submit: 'own' }): Executable | string {
  const first = recordProgram(prog, backend, opts);
  if (typeof first === 'string' || first.tuning.length === 0) return typeof first === 'string' ? first : first.exec;
  return retunedWhenSettled(prog, backend, opts, first);
}

/**
 * A program recorded while the tile tuner was still timing some of its matmuls' shape classes
 * runs with the tiles it recorded until those classes settle; at the first call after that, it is
 * recorded again (once) if the tuner picked another tile for any of them. The values are the same
 * bits either way (every tile sums in the same order); only the speed changes.
 */
function retunedWhenSettled(prog: Program, backend: WebGPUBackend, opts: WebgpuJitOptions, first: { exec: Executable; tuning: number[] }): Executable {
  let cur = first.exec;
  let waiting = first.tuning;
  const wrapper = ((inputs: Tensor[]): Tensor[] => {
    if (waiting.length && waiting.every((c) => !backend.tiles.isTuning(c))) {
      const changed = waiting.some((c) => backend.tiles.tile(c));
      waiting = [];
      if (changed) {
        const next = recordProgram(prog, backend, opts);
        if (typeof next !== 'string') {
          cur.dispose?.();
          cur = next.exec;
          waiting = next.tuning;
          webgpuJitStats.retuned++;
        }
      }
    }
    return cur(inputs);
  }) as Executable;
  Object.defineProperty(wrapper, 'program', { value: prog });
  Object.defineProperty(wrapper, 'steps', { get: () => cur.steps });
  Object.defineProperty(wrapper, 'arenaBytes', { get: () => cur.arenaBytes });
  Object.defineProperty(wrapper, 'dispose', { value: () => cur.dispose?.() });
  return wrapper;
}

/** Records the program once: its executable, and the matmul shape classes still being tuned. */
function recordProgram(prog: Program, backend: WebGPUBackend, opts: WebgpuJitOptions): { exec: Executable; tuning: number[] } | string {
  const shared = opts.submit === 'shared';
  const avals = prog.avals;
  for (const av of avals) if (sizeOf(av.shape) === 0) return 'a zero-size value';
  for (const av of avals) if (av.dtype === 'float64') return 'a float64 value';
  for (const e of prog.eqns) {
    if (e.prim.view) continue;
    // a primitive's own webgpu impl is a user kernel too: the interpreter registers it (or says there is none)
    const k = gpuKernelOf(backend, e.prim.name);
    if (!k) return `op '${e.prim.name}' has no built-in webgpu kernel`;
    if (!k.builtin) return `op '${e.prim.name}' runs a user kernel`;
  }
  const fusible = (e: Eqn) => FUSABLE.has(e.prim.name) && e.outputs.length === 1;
  const maxLeaves = backend.device.limits.maxStorageBuffersPerShaderStage - 2; // output and metadata
  const plan = planProgram(prog, fusible, backend.fuse, maxLeaves);
  const { root } = plan;

  const rec = new Recorder(backend);
  try {
    const exec = record();
    return { exec, tuning: [...rec.tileClasses].filter((c) => backend.tiles.isTuning(c)) };
  } catch (e) {
    rec.destroy();
    if (e instanceof NotRecordable) return e.message;
    // anything else (an unsupported dtype in an expression...): the interpreter raises it at the call
    return `compiling failed: ${(e as Error).message}`;
  }

  /** Walks the plan once: arena buffers for every value, each step's commands recorded. */
  function record(): Executable {
    const bytesOf = (v: number) => sizeOf(avals[v]!.shape) * bytesPerElement(avals[v]!.dtype);
    const buf: (GPUBuffer | null)[] = new Array(avals.length).fill(null);
    const inputRoots = new Set(prog.invars);
    const constRoots = new Set(prog.constvars);
    const outRoots = new Set(prog.outvars.map((v) => root[v]!).filter((r) => !inputRoots.has(r) && !constRoots.has(r)));
    // input slots: written by a copy at the start of each call, never shared
    for (const v of prog.invars) buf[v] = rec.take(bytesOf(v));
    prog.constvars.forEach((v, i) => (buf[v] = computedBuffer(backend, prog.consts[i]!.concrete()._handle)));

    const lastUse = new Map<number, number>();
    plan.reads.forEach((rs, i) => rs.forEach((r) => lastUse.set(r, i)));
    const pinned = (r: number) => inputRoots.has(r) || constRoots.has(r) || outRoots.has(r);
    const nodes = new Map<number, FusedNode>();
    const leaf = (u: number): FusedExpr => ({ kind: 'leaf', buffer: buf[root[u]!]!, shape: avals[u]!.shape, dtype: avals[u]!.dtype });
    const node = (v: number): FusedNode => {
      let n = nodes.get(v);
      if (!n) {
        const p = plan.ew.get(v)!;
        const e = p.eqn;
        if (e.prim.name !== 'broadcastTo') expressionFor(e.prim.name, e.inputs.map((u) => avals[u]!.dtype), avals[v]!.dtype);
        const args = p.args.map((a) => ('leaf' in a ? leaf(a.leaf) : node(a.inline)));
        n = { kind: 'node', op: e.prim.name, args, dtype: avals[v]!.dtype, weight: p.weight };
        nodes.set(v, n);
      }
      return n;
    };
    const ctx = rec.context();
    const steps: string[] = [];
    plan.actions.forEach((a, i) => {
      const writes: number[] = [];
      if (a.kind === 'ew') {
        const k = fusedKernel(node(a.v), avals[a.v]!.shape);
        const out = rec.take(bytesOf(a.v));
        buf[a.v] = out;
        rec.dispatch(k.code, [...k.buffers, out], [...k.buffers.map(() => 'r' as const), 'w'], k.meta, threadGrid(sizeOf(avals[a.v]!.shape)));
        writes.push(a.v);
        steps.push(`fused[${avals[a.v]!.shape.join(',')}]: ${opsOf(a.v)}`);
      } else {
        const e = a.eqn;
        const ins: GpuInput[] = e.inputs.map((u) => ({ shape: avals[u]!.shape, dtype: avals[u]!.dtype, buffer: buf[root[u]!]!, size: sizeOf(avals[u]!.shape) }));
        const outs = e.outputs.map((v) => avals[v]!);
        const res = gpuKernelOf(backend, e.prim.name)!.kernel(ctx, ins, e.params, outs);
        if (res.length !== outs.length) throw new NotRecordable(`kernel '${e.prim.name}' returned ${res.length} outputs, expected ${outs.length}`);
        res.forEach((h, k) => {
          if (!rec.owns(h.buffer)) throw new NotRecordable(`kernel '${e.prim.name}' returned a buffer it did not allocate`);
          buf[e.outputs[k]!] = h.buffer;
          writes.push(e.outputs[k]!);
        });
        steps.push(e.prim.name);
      }
      // after the step: buffers whose last reader it was (or written and never read) are free again
      for (const r of new Set([...plan.reads[i]!, ...writes])) if ((lastUse.get(r) ?? -1) <= i && !pinned(r)) rec.give(buf[r]!);
    });

    /** The ops inlined into a fused value, in evaluation order. */
    function opsOf(v: number, seen = new Set<number>()): string {
      if (seen.has(v)) return '';
      seen.add(v);
      const p = plan.ew.get(v)!;
      const inner = p.args.map((a) => ('inline' in a ? opsOf(a.inline, seen) : '')).filter(Boolean);
      return [...inner, p.eqn.prim.name].join(' ');
    }

    return replayExecutable(prog, backend, rec, { buf, root, steps, shared });
  }
}
