/**
 * Saved state: a pytree (objects, arrays, Tensors, numbers, strings, booleans, null) to plain
 * JSON-compatible data and back, exactly. Tensor data travel as base64 of their little-endian
 * bytes, so float64 values (NaN payloads, -0, denormals) come back bit for bit and int32 PRNG
 * keys stay int32; numbers JSON cannot spell (NaN, ±Infinity, -0) are tagged.
 *
 * Tags are one-key objects whose key starts with a single '$'; a user key that starts with '$'
 * is written with one more '$' in front, so no user object is ever mistaken for a tag.
 */
import { Tensor } from './tensor.js';
import { tensor } from './autodiff/ops/creation.js';
import { withBackend } from './backends/backend.js';
import { allocArray, isDType, type DType, type TypedArray } from './dtype.js';
import { BackendError, ConfigError } from './errors.js';
import { fmtShape } from './shape.js';

/** An own, enumerable property even for a key like `__proto__` (plain assignment would set the prototype). */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** The `format` field of every saved tree. */
export const TREE_JSON_FORMAT = 'bayestape.tree';
/** The version this code writes; fromJSON reads this one only. */
export const TREE_JSON_VERSION = 1;

/** A saved pytree: plain data that JSON.stringify writes and JSON.parse reads back unchanged. */
export interface TreeJSON {
  format: typeof TREE_JSON_FORMAT;
  version: number;
  tree: unknown;
}

/** Options of fromJSON. */
export interface FromJSONOptions {
  /** The backend the tensors are made on (default: the current one); it must be ready. */
  backend?: string;
  /** Cast float leaves to this dtype (e.g. 'float32' to resume a CPU float64 run on WebGPU); int32 stays int32. */
  dtype?: 'float32' | 'float64';
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------- base64 (no Buffer, no btoa: runs anywhere)

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chunk += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + ALPHABET[(v >> 6) & 63]! + ALPHABET[v & 63]!;
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  if (i < n) {
    const b1 = i + 1 < n ? bytes[i + 1]! : 0;
    const v = (bytes[i]! << 16) | (b1 << 8);
    chunk += ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + (i + 1 < n ? ALPHABET[(v >> 6) & 63]! : '=') + '=';
  }
  parts.push(chunk);
  return parts.join('');
}

function fromBase64(s: string, where: string): Uint8Array {
  if (s.length % 4 !== 0) throw new ConfigError(`tree.fromJSON: ${where}: data is not base64 (length ${s.length} is not a multiple of 4).`);
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let v = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      const d = c === 61 && i + j >= s.length - pad ? 0 : c < 128 ? DECODE[c]! : -1;
      if (d < 0) throw new ConfigError(`tree.fromJSON: ${where}: data is not base64 (character ${JSON.stringify(s[i + j])} at ${i + j}).`);
      v = (v << 6) | d;
    }
    out[o++] = v >> 16;
    if (o < out.length) out[o++] = (v >> 8) & 255;
    if (o < out.length) out[o++] = v & 255;
  }
  return out;
}

/** The little-endian bytes of a typed array. */
function bytesOf(a: TypedArray): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  const w = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Float64Array) dv.setFloat64(i * w, a[i]!, true);
    else if (a instanceof Float32Array) dv.setFloat32(i * w, a[i]!, true);
    else dv.setInt32(i * w, a[i]!, true);
  }
  return out;
}

function arrayOf(bytes: Uint8Array, dtype: DType): TypedArray {
  const out = allocArray(dtype, bytes.length / (dtype === 'float64' ? 8 : 4));
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) {
    out[i] = dtype === 'float64' ? dv.getFloat64(i * 8, true) : dtype === 'float32' ? dv.getFloat32(i * 4, true) : dv.getInt32(i * 4, true);
  }
  return out;
}

// ---------------------------------------------------------------- encode

const isPlainObject = (x: object): boolean => {
  const p = Object.getPrototypeOf(x);
  return p === Object.prototype || p === null;
};

function encodeNumber(x: number): unknown {
  if (Number.isNaN(x)) return { $number: 'NaN' };
  if (x === Infinity) return { $number: 'Infinity' };
  if (x === -Infinity) return { $number: '-Infinity' };
  if (Object.is(x, -0)) return { $number: '-0' };
  return x;
}

/**
 * Walks the tree; a Tensor leaf becomes a placeholder filled by `read` (sync or async), so one
 * walk serves both paths.
 */
function encode(tree: unknown, tensors: Tensor[]): unknown {
  const seen = new Set<object>();
  const walk = (x: unknown, path: string): unknown => {
    if (x === null || typeof x === 'string' || typeof x === 'boolean') return x;
    if (typeof x === 'number') return encodeNumber(x);
    if (x === undefined) return { $undefined: true };
    if (x instanceof Tensor) {
      if (x._backend === null) throw new ConfigError(`tree.toJSON: ${path} is a traced value (inside grad/jvp/vmap); save concrete states, outside any transform.`);
      if (x._disposed) throw new ConfigError(`tree.toJSON: ${path} is a disposed tensor.`);
      tensors.push(x);
      return { $tensor: tensors.length - 1 };
    }
    if (typeof x !== 'object') throw new ConfigError(`tree.toJSON: ${path} is a ${typeof x}; a saved tree holds Tensors, numbers, strings, booleans, null, arrays and plain objects.`);
    if (seen.has(x)) throw new ConfigError(`tree.toJSON: ${path} refers back to one of its parents (a cycle); a saved tree must be a tree.`);
    seen.add(x);
    let out: unknown;
    if (Array.isArray(x)) out = x.map((v, i) => walk(v, `${path}[${i}]`));
    else if (isPlainObject(x)) {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x)) setOwn(o, k.startsWith('$') ? `$${k}` : k, walk((x as Record<string, unknown>)[k], `${path}.${k}`));
      out = o;
    } else {
      throw new ConfigError(`tree.toJSON: ${path} is a ${(x as object).constructor?.name ?? 'class instance'}; a saved tree holds only plain objects, arrays and Tensors.`);
    }
    seen.delete(x);
    return out;
  };
  return walk(tree, 'tree');
}

function fill(node: unknown, tensors: Tensor[], datas: TypedArray[]): unknown {
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map((v) => fill(v, tensors, datas));
  const o = node as Record<string, unknown>;
  if (typeof o.$tensor === 'number' && Object.keys(o).length === 1) {
    const t = tensors[o.$tensor]!;
    return { $tensor: { dtype: t.dtype, shape: [...t.shape], data: toBase64(bytesOf(datas[o.$tensor]!)) } };
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) setOwn(out, k, fill(o[k], tensors, datas));
  return out;
}

const wrap = (tree: unknown): TreeJSON => ({ format: TREE_JSON_FORMAT, version: TREE_JSON_VERSION, tree });

/**
 * A JSON-compatible copy of a pytree (dtypes, shapes and values exact). Returned at once when
 * every tensor can be read synchronously (CPU); a Promise otherwise (WebGPU). `await` works for both.
 */
export function toJSON(tree: unknown): TreeJSON | Promise<TreeJSON> {
  const tensors: Tensor[] = [];
  const skeleton = encode(tree, tensors);
  if (tensors.every((t) => !!t.concrete()._backend!.readSync)) return wrap(fill(skeleton, tensors, tensors.map((t) => t.dataSync())));
  const pending = Promise.all(tensors.map((t) => t.data())).then((datas) => wrap(fill(skeleton, tensors, datas)));
  // JSON.stringify of the Promise itself would silently write {}: say so instead
  Object.defineProperty(pending, 'toJSON', {
    value: () => {
      throw new BackendError("tree.toJSON: this tree has tensors on a backend that reads asynchronously (WebGPU): `await bt.tree.toJSON(tree)` before JSON.stringify.");
    },
  });
  return pending;
}

/** The synchronous form of toJSON, for trees on backends that read synchronously (CPU); BackendError otherwise. */
export function toJSONSync(tree: unknown): TreeJSON {
  const r = toJSON(tree);
  if (r instanceof Promise) {
    r.catch(() => undefined);
    throw new BackendError('tree.toJSONSync: a tensor of this tree lives on a backend that reads asynchronously (WebGPU); use `await bt.tree.toJSON(tree)`.');
  }
  return r;
}

// ---------------------------------------------------------------- decode

const NUMBERS: Record<string, number> = { NaN, Infinity, '-Infinity': -Infinity, '-0': -0 };

function decode(node: unknown, path: string, opts: FromJSONOptions, made: Tensor[]): unknown {
  if (node === null || typeof node === 'string' || typeof node === 'boolean') return node;
  if (typeof node === 'number') {
    if (!Number.isFinite(node)) throw new ConfigError(`tree.fromJSON: ${path} is ${node}; non-finite numbers are saved tagged ({ $number: 'NaN' }).`);
    return node;
  }
  if (typeof node !== 'object') throw new ConfigError(`tree.fromJSON: ${path} is a ${typeof node}, which toJSON never writes.`);
  if (Array.isArray(node)) return node.map((v, i) => decode(v, `${path}[${i}]`, opts, made));
  const o = node as Record<string, unknown>;
  const keys = Object.keys(o);
  const tag = keys.length === 1 && /^\$[^$]/.test(keys[0]!) ? keys[0]! : null;
  if (tag === '$number') {
    const v = o.$number;
    if (typeof v !== 'string' || !(v in NUMBERS)) throw new ConfigError(`tree.fromJSON: ${path}: $number must be 'NaN', 'Infinity', '-Infinity' or '-0', got ${JSON.stringify(v)}.`);
    return NUMBERS[v];
  }
  if (tag === '$undefined') return undefined;
  if (tag === '$tensor') return decodeTensor(o.$tensor, path, opts, made);
  if (tag !== null) throw new ConfigError(`tree.fromJSON: ${path}: unknown tag '${tag}' (known: $tensor, $number, $undefined); was this written by a newer version?`);
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (k.startsWith('$') && !k.startsWith('$$')) throw new ConfigError(`tree.fromJSON: ${path}: key '${k}' is neither a tag nor an escaped key ('$$...').`);
    setOwn(out, k.startsWith('$') ? k.slice(1) : k, decode(o[k], `${path}.${k.startsWith('$') ? k.slice(1) : k}`, opts, made));
  }
  return out;
}

function decodeTensor(spec: unknown, path: string, opts: FromJSONOptions, made: Tensor[]): Tensor {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new ConfigError(`tree.fromJSON: ${path}: $tensor must be an object { dtype, shape, data }.`);
  const { dtype, shape, data } = spec as Record<string, unknown>;
  if (!isDType(dtype)) throw new ConfigError(`tree.fromJSON: ${path}: unknown dtype ${JSON.stringify(dtype)} (float64, float32 or int32).`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ConfigError(`tree.fromJSON: ${path}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}.`);
  }
  if (typeof data !== 'string') throw new ConfigError(`tree.fromJSON: ${path}: data must be a base64 string.`);
  const bytes = fromBase64(data, path);
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  const per = dtype === 'float64' ? 8 : 4;
  if (bytes.length !== size * per) {
    throw new ConfigError(`tree.fromJSON: ${path}: ${bytes.length} bytes of data, but ${dtype} of shape ${fmtShape(shape as number[])} needs ${size * per}.`);
  }
  const values = arrayOf(bytes, dtype);
  const to: DType = opts.dtype !== undefined && dtype !== 'int32' ? opts.dtype : dtype;
  const make = () => tensor(values, { shape: shape as number[], dtype: to });
  const t = opts.backend === undefined ? make() : withBackend(opts.backend, make);
  made.push(t);
  return t;
}

/**
 * The pytree a toJSON result (or its JSON.stringify text) describes, its tensors made on
 * `backend`. ConfigError on anything toJSON did not write, naming where.
 */
export function fromJSON(json: unknown, opts: FromJSONOptions = {}): any {
  if (opts === null || typeof opts !== 'object') throw new ConfigError('tree.fromJSON: options must be an object { backend, dtype }.');
  for (const k of Object.keys(opts)) if (k !== 'backend' && k !== 'dtype') throw new ConfigError(`tree.fromJSON: unknown option '${k}' (known: backend, dtype).`);
  if (opts.dtype !== undefined && opts.dtype !== 'float32' && opts.dtype !== 'float64') throw new ConfigError(`tree.fromJSON: dtype must be 'float32' or 'float64', got ${String(opts.dtype)}.`);
  if (opts.backend !== undefined && typeof opts.backend !== 'string') throw new ConfigError(`tree.fromJSON: backend must be a name such as 'cpu' or 'webgpu', got ${typeof opts.backend}.`);
  let j = json;
  if (j instanceof Promise) throw new ConfigError('tree.fromJSON: got a Promise; `await bt.tree.toJSON(tree)` first (on WebGPU it reads asynchronously).');
  if (typeof j === 'string') {
    try {
      j = JSON.parse(j);
    } catch (e) {
      throw new ConfigError(`tree.fromJSON: the string is not JSON: ${(e as Error).message}`);
    }
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new ConfigError(`tree.fromJSON: expected the object bt.tree.toJSON returned, got ${j === null ? 'null' : Array.isArray(j) ? 'an array' : typeof j}.`);
  const o = j as Record<string, unknown>;
  if (o.format !== TREE_JSON_FORMAT) throw new ConfigError(`tree.fromJSON: format is ${JSON.stringify(o.format)}, expected '${TREE_JSON_FORMAT}' (the object bt.tree.toJSON returned).`);
  if (o.version !== TREE_JSON_VERSION) {
    throw new ConfigError(`tree.fromJSON: version ${JSON.stringify(o.version)} is not readable by this bayestape, which reads version ${TREE_JSON_VERSION}${typeof o.version === 'number' && o.version > TREE_JSON_VERSION ? ' (saved by a newer release: upgrade)' : ''}.`);
  }
  if (!('tree' in o)) throw new ConfigError('tree.fromJSON: the object has no tree field.');
  const made: Tensor[] = [];
  try {
    return decode(o.tree, 'tree', opts, made);
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  }
}
