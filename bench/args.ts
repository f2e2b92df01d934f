import { resolve } from 'node:path';

/** The options the algorithm benches share: [--backend cpu|webgpu] [--seconds S] [--out DIR]. */
export function parseBenchArgs(script: string, argv: string[], defaultSeconds: number) {
  let backend = 'cpu';
  let seconds = defaultSeconds;
  let out = resolve(new URL('./results', import.meta.url).pathname);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]) ?? '';
    if (a.startsWith('--backend')) backend = val();
    else if (a.startsWith('--seconds')) seconds = Number(val());
    else if (a.startsWith('--out')) out = resolve(val());
    else {
      console.error(`usage: tsx bench/${script} [--backend cpu|webgpu] [--seconds S] [--out DIR]`);
      process.exit(2);
    }
  }
  return { backend, seconds, out };
}
