package dev.myllm.io;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.PackedWeights;
import dev.myllm.tensor.PackedMatrix;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A model directory ({@code config.json} + {@code model.safetensors}) opened for inference with its
 * matrices kept as one {@link PackedMatrix.Format}, never widened to a float32 model first: a
 * matrix the file already stores in that type and layout (the token table, a separate head) is
 * taken as {@link PackedMatrix#wrap} takes it (F32 in place where the file is mapped, F16/BF16
 * as {@link PackedMatrix.Halves} says); any other (the Conv1D weights, stored transposed, or another
 * type) streams through a buffer of a few rows into memory of its own, and its pages of the file
 * are released. So the Java heap holds no weights, and the resident memory stays near the size of
 * the packed weights. Inference only; training loads float32 with {@link ModelDirectory#load}.
 */
public final class PackedDirectory {
    /** Rows of a matrix converted at a time (per thread). */
    private static final int CHUNK = 64;

    private PackedDirectory() {
    }

    /** As {@link #load(Path, GPTConfig, PackedMatrix.Format, PackedMatrix.Halves)}, F16/BF16 read where mapped. */
    public static GPTModel load(Path dir, GPTConfig config, PackedMatrix.Format f) {
        return load(dir, config, f, PackedMatrix.Halves.MAPPED);
    }

    /**
     * Loads {@code dir} as a model of {@code config} with its matrices as {@code f} (block types
     * only where rows are a multiple of 32, else F16). When a matrix is used in place the file stays
     * mapped for the life of the process, as the matrices read from it.
     */
    public static GPTModel load(Path dir, GPTConfig config, PackedMatrix.Format f, PackedMatrix.Halves halves) {
        Safetensors st = Safetensors.open(ModelDirectory.weightsFile(dir));
        boolean inPlace = false;
        try {
            Gpt2Layout.Plan plan = Gpt2Layout.plan(st, config);
            GPTModel m = GPTModel.unfilledForPacking(config);
            Map<String, Tensor> params = m.namedParameters();
            Set<String> packable = PackedWeights.packable(m).keySet();
            Map<String, PackedMatrix> ready = new LinkedHashMap<>();
            for (var e : plan.sources().entrySet()) {
                String mine = e.getKey(), theirs = e.getValue();
                Tensor p = params.get(mine);
                if (!packable.contains(mine)) {
                    ModelDirectory.fillOne(st, plan, mine, theirs, p);
                    continue;
                }
                int rows = p.dim(0), cols = p.dim(1);
                PackedMatrix.Format want = PackedWeights.formatFor(f, cols);
                boolean conv = Gpt2Layout.isConv1d(mine);
                if (!conv && stores(st.info(theirs).dtype(), want)) {
                    ready.put(mine, PackedMatrix.wrap(want, rows, cols, st.segment(theirs), halves));
                    inPlace |= PackedMatrix.inPlace(want, halves);
                } else {
                    ready.put(mine, convert(st, theirs, conv, want, rows, cols));
                }
            }
            ModelDirectory.checkZeroBiases(st, plan);
            if (plan.tiedHead() != null) checkTied(st, plan.tiedHead(), plan.sources().get(Gpt2Layout.WTE));
            PackedWeights.pack(m, f, ready);
            return m;
        } finally {
            if (!inPlace) st.close(); // nothing reads the mapping any more
        }
    }

    /** Whether a safetensors dtype holds exactly the bits of {@code f} (so the matrix can be used as stored). */
    private static boolean stores(DType d, PackedMatrix.Format f) {
        return (d == DType.F32 && f == PackedMatrix.Format.F32) || (d == DType.F16 && f == PackedMatrix.Format.F16)
                || (d == DType.BF16 && f == PackedMatrix.Format.BF16);
    }

    /**
     * The file's tensor {@code name} as a {@code (rows, cols)} matrix of {@code want}: chunks of
     * rows widened to float32 (a Conv1D tensor, stored {@code [cols, rows]}, read down its columns)
     * and encoded. Threads take chunks of rows, each with its own small buffer.
     */
    private static PackedMatrix convert(Safetensors st, String name, boolean conv, PackedMatrix.Format want, int rows, int cols) {
        PackedMatrix out = PackedMatrix.empty(want, rows, cols);
        int chunks = (rows + CHUNK - 1) / CHUNK, size = st.info(name).dtype().size();
        // one buffer per thread, chunks handed out as threads come free
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        Parallel.forRange(Math.min(chunks, Parallel.threads()), 1, (t0, t1) -> {
            float[] w = new float[CHUNK * cols], col = new float[CHUNK];
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                int r0 = c * CHUNK, n = Math.min(CHUNK, rows - r0);
                if (conv) {
                    // stored [in, out]: element (r, k) of ours is element (k, r) of the file
                    for (int k = 0; k < cols; k++) {
                        st.loadRange(name, (long) k * rows + r0, n, col, 0);
                        for (int i = 0; i < n; i++) w[i * cols + k] = col[i];
                    }
                } else {
                    st.loadRange(name, (long) r0 * cols, n * cols, w, 0);
                }
                out.encodeRows(w, 0, r0, n);
                // rows read whole are not read again: release their pages now, not after the whole
                // matrix (gpt2-small's token table held 154 MB of the file resident beside its panels)
                if (!conv) release(st.segment(name), (long) r0 * cols * size, (long) n * cols * size);
            }
        });
        MemorySegment s = st.segment(name);
        if (s.isMapped()) s.unload(); // its pages are not read again: do not keep them resident
        return out;
    }

    /**
     * Drops {@code bytes} of a mapped segment from {@code offset} out of the process's resident memory
     * (they are read again from the file if touched); a no-op for a segment not mapped.
     */
    static void release(MemorySegment s, long offset, long bytes) {
        if (s.isMapped()) s.asSlice(offset, bytes).unload();
    }

    /** A {@code lm_head.weight} stored beside a tied embedding must equal it (compared a chunk at a time). */
    private static void checkTied(Safetensors st, String head, String wte) {
        long n = st.info(wte).numel();
        int chunk = 1 << 16;
        float[] a = new float[chunk], b = new float[chunk];
        for (long i = 0; i < n; i += chunk) {
            int k = (int) Math.min(chunk, n - i);
            st.loadRange(head, i, k, a, 0);
            st.loadRange(wte, i, k, b, 0);
            if (!java.util.Arrays.equals(a, 0, k, b, 0, k)) {
                throw Gpt2Layout.bad(st, "tensor '" + head + "' differs from the token embedding but config.json ties them");
            }
        }
    }
}
