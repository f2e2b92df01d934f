/** gmmvi's detected-modes rule shared by the mixture targets. */
import type { Tensor } from '../../../tensor.js';

async function rows(t: Tensor): Promise<number[][]> {
  const v = Array.from(await t.data(), Number);
  const d = t.shape[1]!;
  return Array.from({ length: t.shape[0]! }, (_, i) => v.slice(i * d, (i + 1) * d));
}

/**
 * How many target means [K, d] have some model mean [M, d] within ‖6·1_d‖ = 6√d (gmmvi's
 * `num_detected_modes`: a mode counts as found when a component sits near it).
 */
export async function detectedModesOf(targetMeans: Tensor, modelMeans: Tensor): Promise<number> {
  const t = await rows(targetMeans);
  const m = await rows(modelMeans);
  const thr = 6 * Math.sqrt(targetMeans.shape[1]!);
  return t.filter((mu) => m.some((q) => Math.hypot(...mu.map((v, j) => v - q[j]!)) < thr)).length;
}
