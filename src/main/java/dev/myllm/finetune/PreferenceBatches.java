package dev.myllm.finetune;

import dev.myllm.data.Batch;
import dev.myllm.train.BatchSource;
import java.util.ArrayList;
import java.util.List;

/**
 * The DPO notebook's loaders as training batches: a {@link PreferenceBatch} of B pairs travels as
 * one {@link Batch} of 2B rows (chosen rows, then rejected rows) whose targets hold the mask (1 =
 * counted), the form {@link DpoObjective} reads back.
 */
public final class PreferenceBatches implements BatchSource {
    private final PreferenceDataset data;
    private final BatchOrder order;
    private final int padId;
    private final int allowedMaxLength;

    public PreferenceBatches(PreferenceDataset data, BatchOrder order, int padId, int allowedMaxLength) {
        this.data = data;
        this.order = order;
        this.padId = padId;
        this.allowedMaxLength = allowedMaxLength;
    }

    @Override
    public int batchesPerEpoch() {
        return order.batchesPerEpoch();
    }

    @Override
    public Batch batch(int epoch, int index) {
        return encode(data.batch(order.indices(epoch, index), padId, allowedMaxLength));
    }

    /** The first {@code n} batches of epoch 0 (all when {@code n <= 0}). */
    public List<Batch> first(int n) {
        int k = n <= 0 ? batchesPerEpoch() : Math.min(n, batchesPerEpoch());
        List<Batch> out = new ArrayList<>(k);
        for (int i = 0; i < k; i++) out.add(batch(0, i));
        return out;
    }

    /** Chosen rows then rejected rows; targets = masks as 0/1. */
    public static Batch encode(PreferenceBatch p) {
        int n = p.rows() * p.cols();
        int[] ids = new int[2 * n], mask = new int[2 * n];
        System.arraycopy(p.chosen(), 0, ids, 0, n);
        System.arraycopy(p.rejected(), 0, ids, n, n);
        for (int i = 0; i < n; i++) {
            mask[i] = p.chosenMask()[i] ? 1 : 0;
            mask[n + i] = p.rejectedMask()[i] ? 1 : 0;
        }
        return new Batch(ids, mask, 2 * p.rows(), p.cols());
    }

    /** The inverse of {@link #encode}. */
    public static PreferenceBatch decode(Batch b) {
        int rows = b.rows() / 2, n = rows * b.cols();
        int[] c = java.util.Arrays.copyOfRange(b.inputs(), 0, n), r = java.util.Arrays.copyOfRange(b.inputs(), n, 2 * n);
        boolean[] cm = new boolean[n], rm = new boolean[n];
        for (int i = 0; i < n; i++) {
            cm[i] = b.targets()[i] != 0;
            rm[i] = b.targets()[n + i] != 0;
        }
        return new PreferenceBatch(c, r, cm, rm, rows, b.cols());
    }
}
