/// <reference types="@webgpu/types" />
import { Tensor } from '../../tensor.js';
import { bytesPerElement } from '../../dtype.js';
import { sizeOf } from '../../shape.js';
import type { WebGPUBackend } from '../../backends/webgpu/backend.js';
import { allocHandle, checkUsable, computedBuffer, encodeChecks, gpuKernelOf, readChecks, sharedDone, sharedEncoder } from '../../backends/webgpu/jit-access.js';
import { fusedKernel, type FusedExpr, type FusedNode } from '../../backends/webgpu/fusion.js';
import { ELEMENTWISE_GPU_OPS, expressionFor } from '../../backends/webgpu/kernels/elementwise.js';
import { threadGrid, type GpuInput } from '../../backends/webgpu/kernels/common.js';
import type { Eqn, Program } from '../ir.js';
import type { Executable } from '../run.js';
import { planProgram } from './plan.js';
import { encodeCmds, NotRecordable, Recorder, type Cmd } from './record.js';

/** The ops the backend fuses (backend.ts FUSABLE): the elementwise table and broadcastTo. */
const FUSABLE = new Set<string>([...ELEMENTWISE_GPU_OPS, 'broadcastTo']);

/**
 * How a compiled program's commands reach the GPU. 'own' (the default): each call is one command
 * buffer of its own, submitted at once (what the backend had encoded is submitted just before).
 * 'shared': each call's commands go into the backend's open command encoder, after what eager ops
 * encoded, and are submitted with the backend's next batch (every `batchSize` dispatches, at a
 * read or sync, or at the end of the synchronous turn): no submit per call, which pays where many
 * small calls are queued without a read in between.
 */
export interface WebgpuJitOptions {
  submit: 'own' | 'shared';
}

/** Counters of the compiled programs' calls, for tests and benchmarks (submits also count in backend.stats). */
export const webgpuJitStats = { calls: 0, submits: 0 };

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
 * Per call: pending work on the inputs is submitted, then one command encoder copies the inputs
 * into their arena slots, replays the recorded commands, copies the outputs into fresh pooled
 * buffers (the caller owns them), and is submitted once (or, with `submit: 'shared'`, the same
 * commands go into the backend's open encoder; see WebgpuJitOptions).
 *
 * Kernels with deferred checks (cholesky's pivots, take's index range: KernelContext.status) get
 * status words of the program's own, read back after each call's submit like the backend's, so
 * a failure is thrown at the next read or sync as in eager mode.
 *
 * Returns a reason string instead when the program cannot be compiled (a zero-size or float64
 * value, a user kernel): the caller interprets it.
 */
export function compileWebgpu(prog: Program, backend: WebGPUBackend, opts: WebgpuJitOptions = { submit: 'own' }): Executable | string {
  const shared = opts.submit === 'shared';
  const avals = prog.avals;
  for (const av of avals) if (sizeOf(av.shape) === 0) return 'a zero-size value';
  for (const av of avals) if (av.dtype === 'float64') return 'a float64 value';
  for (const e of prog.eqns) {
    if (e.prim.view) continue;
    let k = gpuKernelOf(backend, e.prim.name);
    if (!k) {
      const impl = (e.prim as { impl?: Record<string, unknown> }).impl?.webgpu;
      if (!impl) return `op '${e.prim.name}' has no webgpu kernel`;
      backend.registerKernel(e.prim.name, impl);
      k = gpuKernelOf(backend, e.prim.name)!;
    }
    if (!k.builtin) return `op '${e.prim.name}' runs a user kernel`;
  }
  const fusible = (e: Eqn) => FUSABLE.has(e.prim.name) && e.outputs.length === 1;
  const maxLeaves = backend.device.limits.maxStorageBuffersPerShaderStage - 2; // output and metadata
  const plan = planProgram(prog, fusible, backend.fuse, maxLeaves);
  const { root } = plan;

  const rec = new Recorder(backend);
  try {
    return build(prog, backend, plan, rec);
  } catch (e) {
    rec.destroy();
    if (e instanceof NotRecordable) return e.message;
    // anything else (an unsupported dtype in an expression...): the interpreter raises it at the call
    return `compiling failed: ${(e as Error).message}`;
  }

  function build(prog: Program, backend: WebGPUBackend, plan: ReturnType<typeof planProgram>, rec: Recorder): Executable {
    const bytesOf = (v: number) => sizeOf(avals[v]!.shape) * bytesPerElement(avals[v]!.dtype);
    const buf: (GPUBuffer | null)[] = new Array(avals.length).fill(null);
    const inputRoots = new Set(prog.invars);
    const constRoots = new Set(prog.constvars);
    const outRoots = new Set(prog.outvars.map((v) => root[v]!).filter((r) => !inputRoots.has(r) && !constRoots.has(r)));
    // input slots: written by a copy at the start of each call, never shared
    for (const v of prog.invars) buf[v] = rec.take(bytesOf(v));
    const constHandles = prog.consts.map((c) => c.concrete()._handle);
    prog.constvars.forEach((v, i) => (buf[v] = computedBuffer(backend, constHandles[i])));

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

    const cmds: Cmd[] = rec.cmds;
    const checks = rec.checks;
    const inBytes = prog.invars.map((v) => bytesOf(v));
    const inSlots = prog.invars.map((v) => buf[v]!);
    // per output: an input's or a const's storage (shared), a computed root (copied out), or an earlier output
    const outPlan = prog.outvars.map((v, j) => {
      const r = root[v]!;
      const firstAt = prog.outvars.findIndex((w) => root[w] === r);
      return { shape: avals[v]!.shape, dtype: avals[v]!.dtype, input: prog.invars.indexOf(r), constAt: prog.constvars.indexOf(r), src: buf[r]!, bytes: bytesOf(v), firstAt, first: firstAt === j };
    });
    const device = backend.device;
    const handles: unknown[] = new Array(outPlan.length);

    const exec = ((inputs: Tensor[]): Tensor[] => {
      checkUsable(backend, 'jit');
      const srcs: GPUBuffer[] = new Array(inputs.length);
      for (let i = 0; i < inputs.length; i++) srcs[i] = computedBuffer(backend, inputs[i]!.concrete()._handle);
      // own: what the backend has encoded (the inputs' producers among it) is submitted first;
      // shared: the program's commands follow it in the backend's open encoder
      if (!shared) backend.flush();
      const enc = shared ? sharedEncoder(backend) : device.createCommandEncoder();
      for (let i = 0; i < srcs.length; i++) enc.copyBufferToBuffer(srcs[i]!, 0, inSlots[i]!, 0, inBytes[i]!);
      encodeCmds(enc, cmds);
      const res: Tensor[] = new Array(outPlan.length);
      for (let j = 0; j < outPlan.length; j++) {
        const o = outPlan[j]!;
        let h: unknown;
        if (o.input >= 0) h = backend.share(inputs[o.input]!.concrete()._handle);
        else if (o.constAt >= 0) h = backend.share(constHandles[o.constAt]);
        else if (o.first) {
          const fresh = allocHandle(backend, o.bytes);
          enc.copyBufferToBuffer(o.src, 0, fresh.buffer, 0, o.bytes);
          h = fresh;
        } else h = backend.share(handles[o.firstAt]);
        handles[j] = h;
        res[j] = new Tensor(o.shape, o.dtype, h, backend);
      }
      webgpuJitStats.calls++;
      if (shared) {
        sharedDone(backend, nDispatch, checks);
      } else {
        const checked = checks.length ? encodeChecks(backend, enc, checks) : null;
        device.queue.submit([enc.finish()]);
        backend.stats.submits++;
        if (checked) readChecks(backend, checked);
        backend.stats.dispatches += nDispatch;
        webgpuJitStats.submits++;
      }
      handles.fill(null);
      return res;
    }) as Executable;
    const nDispatch = cmds.filter((c) => c.kind === 'dispatch').length;
    Object.defineProperty(exec, 'program', { value: prog });
    Object.defineProperty(exec, 'steps', { value: [`copy in ×${prog.invars.length}`, ...steps, `copy out ×${outPlan.filter((o) => o.first && o.input < 0 && o.constAt < 0).length}`] });
    Object.defineProperty(exec, 'arenaBytes', { value: rec.bytes });
    Object.defineProperty(exec, 'dispose', {
      value: () => {
        // a call's commands may still wait in the backend's open encoder ('shared', or copies it
        // ordered after): submit them before their buffers are destroyed
        try {
          checkUsable(backend, 'jit dispose');
          backend.flush();
        } catch {
          /* backend disposed or device lost: nothing will be submitted */
        }
        rec.destroy();
      },
    });
    return exec;
  }
}
