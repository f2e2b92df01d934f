/**
 * bt.loop: the one run loop behind every algorithm's `run` (steps keyed by foldIn(key, t), abort,
 * progress, early stopping, non-finite checks, checkpoints and resume), public for custom loops.
 *
 * @module
 */
export { run, type LoopOptions, type LoopResult, type CheckOptions } from './loop.js';
export { defaultLine, fmtSeconds, type Progress, type ProgressOptions } from './progress.js';
export { type StopReason, type EarlyStoppingOptions, type StopCounters } from './stop.js';
export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type Checkpoint, type CheckpointOptions } from './checkpoint.js';
