import { ConfigError } from '../errors.js';

/**
 * Option checking shared by bt.optim, bt.nn and bt.logpdf. Misspelt options are the commonest
 * silent bug in optimiser code (`learning_rate` ignored, default used), so unknown keys throw.
 */
export function checkKeys(op: string, opts: unknown, known: readonly string[]): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new ConfigError(`${op}: options must be a plain object, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}.`);
  }
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) throw new ConfigError(`${op}: unknown option '${k}' (known: ${known.join(', ')}).`);
  }
}

export interface RangeSpec {
  /** inclusive lower bound */
  min?: number;
  /** exclusive lower bound */
  above?: number;
  /** inclusive upper bound */
  max?: number;
  /** exclusive upper bound */
  below?: number;
  integer?: boolean;
}

/** A finite number in the given range, or a ConfigError that names the option and its value. */
export function checkNumber(op: string, name: string, v: unknown, spec: RangeSpec = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ConfigError(`${op}: ${name} must be a finite number, got ${describeValue(v)}.`);
  }
  const fail = (why: string) => new ConfigError(`${op}: ${name} must be ${why}, got ${v}.`);
  if (spec.integer && !Number.isInteger(v)) throw fail('an integer');
  if (spec.min !== undefined && v < spec.min) throw fail(`>= ${spec.min}`);
  if (spec.above !== undefined && !(v > spec.above)) throw fail(`> ${spec.above}`);
  if (spec.max !== undefined && v > spec.max) throw fail(`<= ${spec.max}`);
  if (spec.below !== undefined && !(v < spec.below)) throw fail(`< ${spec.below}`);
  return v;
}

export function checkBoolean(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(`${op}: ${name} must be true or false, got ${describeValue(v)}.`);
  return v;
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'Object'})`;
  if (typeof v === 'string') return `'${v}'`;
  return String(v);
}

/** Options that are required (they carry a required field such as learningRate). */
export function requireOptions(op: string, opts: unknown, known: readonly string[]): void {
  if (opts === undefined || opts === null) throw new ConfigError(`${op}: options are required (known: ${known.join(', ')}).`);
  checkKeys(op, opts, known);
}
