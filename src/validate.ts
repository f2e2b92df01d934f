/**
 * Option and argument checking for the whole library (optim, nn, logpdf, distributions, the
 * engine's option bags, the algorithms). Misspelt options are the commonest silent bug in
 * optimiser code (`learning_rate` ignored, default used), so unknown keys throw; every checker
 * throws a ConfigError naming the operation, the option and the value it got.
 */
import { ConfigError } from './errors.js';

/** Throws a ConfigError for any key of `opts` not in `known` (undefined/null opts have none). */
export function checkKnown(op: string, opts: object | null | undefined, known: readonly string[]): void {
  for (const k of Object.keys(opts ?? {})) {
    if (!known.includes(k)) throw new ConfigError(`${op}: unknown option '${k}' (known: ${known.join(', ')}).`);
  }
}

/** Options that may be omitted but, when given, are a plain object with only `known` keys. */
export function checkKeys(op: string, opts: unknown, known: readonly string[]): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new ConfigError(`${op}: options must be a plain object, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}.`);
  }
  checkKnown(op, opts, known);
}

/** Bounds for checkNumber; every field is optional. */
export interface RangeSpec {
  /** inclusive lower bound */
  min?: number;
  /** exclusive lower bound */
  above?: number;
  /** inclusive upper bound */
  max?: number;
  /** exclusive upper bound */
  below?: number;
  /** must be a whole number */
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

/** true or false, or a ConfigError naming the option and its value. */
export function checkBoolean(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(`${op}: ${name} must be true or false, got ${describeValue(v)}.`);
  return v;
}

/** A short description of any value for error messages ('a function', 'null', `'text'`, ...). */
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

/** A whole number ≥ 1 (or undefined when allowed), else a ConfigError naming the option. */
export function checkPositiveInt(op: string, name: string, v: unknown, allowUndefined = false): void {
  if (allowUndefined && v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`${op}: ${name} must be a positive integer, got ${String(v)}.`);
}

/** One of the allowed strings, else a ConfigError listing them. */
export function oneOf<T extends string>(op: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw new ConfigError(`${op}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}.`);
  return v as T;
}
