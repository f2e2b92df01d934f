import { Tensor } from '../../tensor.js';
import { allocArray, type TypedArray } from '../../dtype.js';
import type { CpuBackend } from '../../backends/cpu/index.js';
import type { CpuKernel } from '../../autodiff/primitive.js';
import { adoptCpuArray, cpuKernelOf } from '../../backends/cpu/jit-access.js';
import { cpuKernels } from '../../backends/cpu/kernels.js';
import { allocPooled, recycle } from '../../backends/cpu/pool.js';
import type { Program } from '../ir.js';
import type { Executable } from '../run.js';
import { fuse, type Step } from './fuse.js';
import { groupSource, makeGroupFn } from './loops.js';
import { isFusible } from './exprs.js';
import { directOps, matmulStep } from './direct.js';
import { kernelStep } from './kernel-step.js';
import { biasEpilogues } from './epilogue.js';

type Buffers = unknown[];
type Run = (B: Buffers) => void;

const REDUCTIONS = new Set(['reduceSum', 'reduceMax', 'reduceMin']);
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Compiles a traced program for the CPU backend: elementwise chains (and reductions they feed)
 * become generated loops (./fuse.ts, ./loops.ts), matmuls call the matmul routine with offsets
 * worked out once, shape ops and lone reductions call the routine under their kernel with a
 * planned output (./direct.ts), every other op (linalg, random, special functions, user
 * primitives) calls the kernel eager dispatch would call.
 *
 * Buffers are planned once. Every intermediate a loop, matmul or direct routine writes gets a slot in an arena
 * owned by the program, allocated at compile time and shared by values whose lifetimes do not
 * overlap (first fit by dtype and length, a slot is free again only after its last reader's
 * step); no call allocates them again. Values returned to the caller are written into fresh
 * arrays each call (the caller owns them), and the outputs of library kernels, which allocate
 * their own, go back to the pool after their last reader.
 *
 * Returns null when the program uses something this compiler cannot address (the caller then
 * interprets it).
 */
export function compileCpu(prog: Program, backend: CpuBackend): Executable | null {
  const avals = prog.avals;
  // An op whose kernel was replaced by registerKernel runs that kernel, never the fused copy.
  const builtin = (op: string) => cpuKernelOf(backend, op) === (cpuKernels as Record<string, CpuKernel>)[op];
  for (const e of prog.eqns) {
    if (e.prim.view || cpuKernelOf(backend, e.prim.name)) continue;
    const k = (e.prim as { impl?: Record<string, unknown> }).impl?.cpu;
    if (typeof k !== 'function') return null;
    backend.registerKernel(e.prim.name, k);
  }
  const fused = fuse(prog, (op, dtype, size) => (isFusible(op, dtype, size) || REDUCTIONS.has(op)) && builtin(op));
  const root = fused.root;
  const isMatmul = (s: Step) => s.kind === 'kernel' && s.eqn.prim.name === 'matmul' && builtin('matmul') && avals[s.eqn.outputs[0]!]!.shape.length >= 2 && avals[s.eqn.outputs[0]!]!.dtype !== 'int32';
  // matmul + bias add as one step (./epilogue.ts), when add is the eager kernel too
  const steps = builtin('add') ? biasEpilogues(prog, fused.steps, root, isMatmul) : fused.steps;

  const inputRoots = new Set(prog.invars);
  const constRoots = new Set(prog.constvars);
  const outRoots = new Set<number>();
  for (const v of prog.outvars) {
    const r = root[v]!;
    if (!inputRoots.has(r) && !constRoots.has(r)) outRoots.add(r);
  }

  // Reads (storage roots) of each step, and which group computes each root.
  const groupOf = new Map<number, number>();
  const reads: number[][] = steps.map((s, i) => {
    if (s.kind === 'kernel') return s.eqn.inputs.map((u) => root[u]!);
    const members = new Set(s.eqns.map((e) => e.outputs[0]!));
    for (const m of members) groupOf.set(m, i);
    const ext = new Set<number>();
    for (const e of s.eqns) for (const u of e.inputs) if (!members.has(root[u]!)) ext.add(root[u]!);
    return [...ext];
  });
  const lastUse = new Map<number, number>();
  const readElsewhere = new Set<number>();
  reads.forEach((rs, i) => {
    for (const r of rs) {
      lastUse.set(r, i);
      if (groupOf.has(r) && groupOf.get(r) !== i) readElsewhere.add(r);
    }
  });
  const stored = new Set<number>([...groupOf.keys()].filter((r) => outRoots.has(r) || readElsewhere.has(r)));

  // Arena plan: roots written by loops and matmuls, outputs excepted.
  const B: Buffers = new Array(avals.length).fill(null);
  const arenaHandles: unknown[] = [];
  const free = new Map<string, TypedArray[]>();
  const keyOf = (r: number) => `${avals[r]!.dtype}:${sizeOf(avals[r]!.shape)}`;
  const take = (r: number) => {
    const list = free.get(keyOf(r));
    let a = list?.pop();
    if (!a) {
      a = allocArray(avals[r]!.dtype, sizeOf(avals[r]!.shape));
      arenaHandles.push(adoptCpuArray(backend, a));
    }
    B[r] = a;
  };
  const give = (r: number) => {
    let list = free.get(keyOf(r));
    if (!list) free.set(keyOf(r), (list = []));
    list.push(B[r] as TypedArray);
  };
  const freshOuts: number[] = []; // output roots written by loops, matmuls or direct routines: a new array per call
  const runs: Run[] = [];
  const isDirect = (s: Step) => s.kind === 'kernel' && Object.prototype.hasOwnProperty.call(directOps, s.eqn.prim.name) && builtin(s.eqn.prim.name);
  const planned = new Set<number>();
  steps.forEach((s, i) => {
    const writes = s.kind === 'group' ? [...s.eqns.map((e) => e.outputs[0]!).filter((r) => stored.has(r)), ...(s.reduce ? [s.reduce.outputs[0]!] : [])] : s.eqn.outputs;
    const ownArrays = s.kind === 'group' || isMatmul(s) || isDirect(s);
    for (const r of writes) {
      if (!ownArrays) continue;
      if (outRoots.has(r)) freshOuts.push(r);
      else {
        take(r);
        planned.add(r);
      }
    }
    if (s.kind === 'group') runs.push(groupRun(s));
    else if (isMatmul(s)) runs.push(matmulStep(s.eqn, avals, root));
    else if (isDirect(s)) runs.push(directOps[s.eqn.prim.name]!(s.eqn, avals, root));
    else runs.push(kernelStep(s.eqn, avals, root, cpuKernelOf(backend, s.eqn.prim.name)!, builtin(s.eqn.prim.name)));
    // After the step: slots whose last reader this was are free again; kernel arrays go to the pool.
    const done = [...reads[i]!, ...writes].filter((r) => (lastUse.get(r) ?? -1) <= i && !outRoots.has(r) && !inputRoots.has(r) && !constRoots.has(r));
    for (const r of new Set(done)) {
      if (planned.has(r)) give(r);
      else runs.push((Bf) => recycle(Bf[r] as TypedArray));
    }
  });

  function groupRun(s: Step & { kind: 'group' }): Run {
    const code = groupSource(s, avals, root, stored);
    return makeGroupFn(code, code.scratch === null ? null : new Float64Array(code.scratch));
  }

  for (const c of prog.consts.keys()) B[prog.constvars[c]!] = backend.peek(prog.consts[c]!.concrete()._handle);
  const invars = prog.invars;
  const nIn = invars.length;
  const freshDtype = freshOuts.map((r) => avals[r]!.dtype);
  const freshSize = freshOuts.map((r) => sizeOf(avals[r]!.shape));
  // Per output: where its storage comes from (an input, a const, or a value computed this call).
  const outPlan = prog.outvars.map((v, j) => {
    const r = root[v]!;
    const firstAt = prog.outvars.findIndex((w) => root[w] === r);
    return {
      shape: avals[v]!.shape,
      dtype: avals[v]!.dtype,
      input: invars.indexOf(r),
      constHandle: constRoots.has(r) ? prog.consts[prog.constvars.indexOf(r)]!.concrete()._handle : null,
      root: r,
      first: firstAt === j,
      firstAt,
    };
  });
  const nRuns = runs.length;
  const handles: unknown[] = new Array(prog.outvars.length);

  const exec = ((inputs: Tensor[]): Tensor[] => {
    for (let i = 0; i < nIn; i++) B[invars[i]!] = backend.peek(inputs[i]!.concrete()._handle);
    for (let j = 0; j < freshOuts.length; j++) B[freshOuts[j]!] = allocPooled(freshDtype[j]!, freshSize[j]!);
    for (let i = 0; i < nRuns; i++) runs[i]!(B);
    const res: Tensor[] = new Array(outPlan.length);
    for (let j = 0; j < outPlan.length; j++) {
      const o = outPlan[j]!;
      let h: unknown;
      if (o.input >= 0) h = backend.share(inputs[o.input]!.concrete()._handle);
      else if (o.constHandle !== null) h = backend.share(o.constHandle);
      else if (o.first) h = adoptCpuArray(backend, B[o.root] as TypedArray);
      else h = backend.share(handles[o.firstAt]);
      handles[j] = h;
      res[j] = new Tensor(o.shape, o.dtype, h, backend);
    }
    // Drop references to the caller's arrays and to this call's results.
    for (let i = 0; i < nIn; i++) B[invars[i]!] = null;
    for (let j = 0; j < outPlan.length; j++) {
      handles[j] = null;
      if (outPlan[j]!.input < 0 && outPlan[j]!.constHandle === null) B[outPlan[j]!.root] = null;
    }
    return res;
  }) as Executable;
  Object.defineProperty(exec, 'program', { value: prog });
  Object.defineProperty(exec, 'steps', { value: steps.map(describe) });
  Object.defineProperty(exec, 'arenaBytes', { value: arenaHandles.reduce((n: number, h) => n + backend.peek(h).byteLength, 0) });
  Object.defineProperty(exec, 'dispose', {
    value: () => {
      for (const h of arenaHandles.splice(0)) backend.release(h);
    },
  });
  return exec;
}

/** One step in words, for tests and debugging: `loop[2,3]: mul exp → reduceSum` or an op name. */
function describe(s: Step): string {
  if (s.kind === 'kernel') return s.eqn.prim.name === 'matmul' && s.eqn.inputs.length === 3 ? 'matmul+add' : s.eqn.prim.name;
  return `loop[${s.shape.join(',')}]: ${s.eqns.map((e) => e.prim.name).join(' ')}${s.reduce ? ` → ${s.reduce.prim.name}` : ''}`;
}
