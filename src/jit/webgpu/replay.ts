/// <reference types="@webgpu/types" />
import { Tensor } from '../../tensor.js';
import { bytesPerElement } from '../../dtype.js';
import { sizeOf } from '../../shape.js';
import type { WebGPUBackend } from '../../backends/webgpu/backend.js';
import { allocHandle, checkUsable, computedBuffer, encodeChecks, readChecks, sharedDone, sharedEncoder } from '../../backends/webgpu/jit-access.js';
import type { Program } from '../ir.js';
import type { Executable } from '../run.js';
import { encodeCmds, type Cmd, type Recorder } from './record.js';

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

/** Calls of compiled programs, for tests (their submits count in backend.stats). */
/** calls of recorded programs; programs recorded again once the tile tuner settled their matmuls */
export const webgpuJitStats = { calls: 0, retuned: 0 };

/** What recording left for the calls: each value's arena buffer, the view roots, the steps in words. */
export interface Recorded {
  buf: readonly (GPUBuffer | null)[];
  root: Int32Array;
  steps: readonly string[];
  shared: boolean;
}

/**
 * The executable of a recorded program. Per call: the inputs' pending work is submitted (or, in
 * 'shared' mode, followed in the same encoder), the inputs are copied into their arena slots, the
 * recorded commands replayed, each output copied into a fresh pooled buffer the caller owns (an
 * output that is an input or a constant shares its storage, as the interpreter does), and the
 * command buffer submitted once with the read-back of the program's status words.
 */
export function replayExecutable(prog: Program, backend: WebGPUBackend, rec: Recorder, { buf, root, steps, shared }: Recorded): Executable {
  const avals = prog.avals;
  const bytesOf = (v: number) => sizeOf(avals[v]!.shape) * bytesPerElement(avals[v]!.dtype);
  const constHandles = prog.consts.map((c) => c.concrete()._handle);
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
      // 'shared': the last calls' commands may still wait in the backend's open encoder; submit
      // them before their buffers are destroyed (in 'own' mode they were submitted at each call)
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
