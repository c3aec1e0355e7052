package dev.myllm.finetune;

/**
 * The one kernel that adds a LoRA update into a weight, shared by a run's own merge
 * ({@link LoRALinear#addMergedTo}) and a PEFT adapter's ({@link PeftAdapter#mergeInto}), so that our
 * run's adapter merged at load gives the run's merged model bit for bit.
 */
final class LoRAMerge {
    private LoRAMerge() {
    }

    /**
     * {@code w[(row0+o)·in + i] += (float)(scale·Σ_k B(o,k)·A(k,i))} for {@code o < rows},
     * {@code i < in}, {@code k < rank}, with {@code A(k,i) = a[k·aK + i·aI]} and
     * {@code B(o,k) = b[o·bO + k·bK]}: the products are exact in double and summed in k order,
     * the sum times the float scale rounded to float once, then added to the float weight.
     * Zero B entries are skipped: adding ±0 to the double sum never changes it.
     */
    static void add(float[] w, int row0, int rows, int in, float[] a, int aK, int aI, float[] b, int bO, int bK, int rank, float scale) {
        double[] row = new double[in];
        for (int o = 0; o < rows; o++) {
            java.util.Arrays.fill(row, 0);
            for (int k = 0; k < rank; k++) {
                double bk = b[o * bO + k * bK];
                if (bk == 0) continue;
                int ak = k * aK;
                for (int i = 0; i < in; i++) row[i] += bk * a[ak + i * aI];
            }
            int wo = (row0 + o) * in;
            for (int i = 0; i < in; i++) w[wo + i] += (float) (scale * row[i]);
        }
    }
}
