package dev.myllm.finetune;

import dev.myllm.data.Batch;
import dev.myllm.train.BatchSource;
import java.util.ArrayList;
import java.util.List;

/** The book's instruction data loaders: collated batches of an {@link InstructionDataset} in {@link BatchOrder}. */
public final class InstructionBatches implements BatchSource {
    private final InstructionDataset data;
    private final BatchOrder order;
    private final int padId;
    private final int allowedMaxLength;
    private final boolean maskInstruction;

    public InstructionBatches(InstructionDataset data, BatchOrder order, int padId, int allowedMaxLength, boolean maskInstruction) {
        this.data = data;
        this.order = order;
        this.padId = padId;
        this.allowedMaxLength = allowedMaxLength;
        this.maskInstruction = maskInstruction;
    }

    @Override
    public int batchesPerEpoch() {
        return order.batchesPerEpoch();
    }

    @Override
    public Batch batch(int epoch, int index) {
        return data.batch(order.indices(epoch, index), padId, allowedMaxLength, maskInstruction);
    }

    /** The first {@code n} batches of epoch 0 (all when {@code n <= 0}). */
    public List<Batch> first(int n) {
        int k = n <= 0 ? batchesPerEpoch() : Math.min(n, batchesPerEpoch());
        List<Batch> out = new ArrayList<>(k);
        for (int i = 0; i < k; i++) out.add(batch(0, i));
        return out;
    }
}
