package dev.myllm.model;

import dev.myllm.nn.Dropout;
import dev.myllm.nn.DropoutSource;
import dev.myllm.nn.Embedding;
import dev.myllm.nn.LayerNorm;
import dev.myllm.nn.Linear;
import dev.myllm.nn.Module;
import dev.myllm.nn.ModuleList;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.Checkpoint;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.ProductMode;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import dev.myllm.tensor.TorchGenerator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The GPT-2 model (the book's {@code GPTModel}, section 4.6): token and position embeddings,
 * a stack of {@link TransformerBlock}s, a final LayerNorm and a linear output head that maps each
 * position to logits over the vocabulary.
 *
 * <p>Parameter names are Hugging Face GPT-2's: {@code wte.weight}, {@code wpe.weight},
 * {@code h.{i}.ln_1.weight}, {@code h.{i}.attn.c_attn.weight} (stored {@code [out, in]}; the io
 * layer transposes Conv1D), ..., {@code ln_f.bias}, and {@code lm_head.weight} only when the head
 * is not tied to {@code wte}.
 *
 * <p>Initialization (GPT-2's, as in nanoGPT): every weight normal(0, 0.02), the projections that
 * write into the residual stream ({@code c_proj}) normal(0, 0.02/√(2·layers)), biases zero,
 * LayerNorm scale one and shift zero. The same seed gives the same weights.
 */
public final class GPTModel extends Module {
    private static final float STD = 0.02f;

    private final GPTConfig config;
    private final Rng dropoutRng;
    private final DropoutSource dropout;
    private final Embedding wte;
    private final Embedding wpe;
    private final Dropout dropEmb;
    private final ModuleList<TransformerBlock> h;
    private final LayerNorm lnF;
    private final Linear lmHead; // null when tied to wte
    private UnaryOperator<Tensor> headAdapter; // a low-rank update of the head's output (LoRA), or null
    private boolean checkpointActivations;

    /** A freshly initialized model; {@code seed} fixes the weights and the first dropout masks. */
    public GPTModel(GPTConfig config, long seed) {
        this(config, seed, null);
    }

    /**
     * The book's model as {@code torch.manual_seed(s); GPTModel(cfg)} makes it: PyTorch's default
     * initialisation drawn from {@code torch} in the book's order ({@link BookInit}); the dropout
     * masks of training then come from {@code torch} too, as in the book's run.
     */
    public GPTModel(GPTConfig config, TorchGenerator torch) {
        this(config, torch.initialSeed(), torch);
    }

    /**
     * A model whose weights are all zero, nothing drawn: for a loader that fills every weight next
     * (drawing gpt2-xl's 1.5 billion random numbers first took longer than reading the file).
     */
    public static GPTModel unfilled(GPTConfig config) {
        return new GPTModel(config, 0, null, false);
    }

    /**
     * As {@link #unfilled}, but the matrices that packed weights replace (every Linear, the token
     * table) have a shape and no values: for a loader that gives them packed weights next
     * ({@link PackedWeights#pack}), so no float32 copy of them is ever allocated.
     */
    public static GPTModel unfilledForPacking(GPTConfig config) {
        return dev.myllm.nn.UnfilledMatrices.build(() -> new GPTModel(config, 0, null, false));
    }

    private GPTModel(GPTConfig config, long seed, TorchGenerator torch) {
        this(config, seed, torch, true);
    }

    private GPTModel(GPTConfig config, long seed, TorchGenerator torch, boolean draw) {
        this.config = config;
        Rng init = torch == null && draw ? new Rng(seed) : null; // null: zeros, filled below or by a loader
        this.dropoutRng = new Rng(seed * 0x9E3779B97F4A7C15L + 1);
        this.dropout = new DropoutSource(dropoutRng);
        float projStd = (float) (STD / Math.sqrt(2.0 * config.nLayers()));
        this.wte = child("wte", new Embedding(config.vocabSize(), config.embDim(), init, STD));
        this.wpe = child("wpe", dev.myllm.nn.UnfilledMatrices.filled(() -> new Embedding(config.contextLength(), config.embDim(), init, STD)));
        this.dropEmb = child("drop", new Dropout(config.dropRate(), dropout));
        this.h = child("h", new ModuleList<>());
        for (int i = 0; i < config.nLayers(); i++) h.add(new TransformerBlock(config, init, STD, projStd, dropout));
        this.lnF = child("ln_f", new LayerNorm(config.embDim(), config.layerNormEps()));
        this.lmHead = config.tiedHead() ? null : child("lm_head", new Linear(config.embDim(), config.vocabSize(), false, init, STD));
        if (torch != null) {
            BookInit.apply(this, torch);
            dropout.useTorch(torch);
        }
    }

    public GPTConfig config() {
        return config;
    }

    /**
     * The generator every dropout layer draws its mask seeds from; a trainer saves
     * {@link Rng#state()} in its checkpoint and restores it to replay the same masks.
     */
    public Rng dropoutRng() {
        return dropoutRng;
    }

    /** Where the dropout layers take their masks from (the torch generator of a book-initialised model). */
    public DropoutSource dropoutSource() {
        return dropout;
    }

    /** Logits {@code (B, T, V)} for token ids {@code (B, T)} given row-major in {@code ids}. */
    public Tensor forward(int[] ids, int batch, int seqLen) {
        return forward(ids, batch, seqLen, null, false);
    }

    /**
     * Logits for {@code (B, T)} ids. With a cache, {@code ids} are only the new tokens: they take
     * the positions after the cached ones, and their keys and values are added to the cache
     * (inference only, under {@code GradMode.noGrad()}). With {@code lastOnly} the output head
     * runs on the last position alone and the result is {@code (B, 1, V)}, which is all decoding needs.
     */
    public Tensor forward(int[] ids, int batch, int seqLen, KVCache cache, boolean lastOnly) {
        return head(finalHidden(ids, batch, seqLen, cache, lastOnly)); // (B, T|1, V)
    }

    /**
     * The hidden states {@code (B, T, C)} the last transformer block outputs, before the final
     * LayerNorm: what a classifier head (chapter 6) reads instead of the vocabulary projection.
     */
    public Tensor hidden(int[] ids, int batch, int seqLen) {
        return body(ids, batch, seqLen, null);
    }

    /**
     * With {@code on}, training keeps only each block's input for backward and recomputes the
     * block's forward there (activation checkpointing): far less activation memory for one more
     * forward pass, the same gradients bit for bit.
     */
    public void setCheckpointActivations(boolean on) {
        this.checkpointActivations = on;
    }

    public boolean checkpointActivations() {
        return checkpointActivations;
    }

    /** Adds {@code adapter(x)} to the output head's logits, where x is the final-normed state (LoRA on the head); null removes it. */
    public void setHeadAdapter(UnaryOperator<Tensor> adapter) {
        this.headAdapter = adapter;
    }

    /** Whether a LoRA adapter sits on the output head (then the head cannot be fused with the loss). */
    public boolean hasHeadAdapter() {
        return headAdapter != null;
    }

    /**
     * What the output head reads: the final LayerNorm's output {@code (B, T|1, C)}, arguments as
     * {@link #forward(int[], int, int, KVCache, boolean)}. Training feeds it to the head fused with
     * the loss ({@code Ops.linearCrossEntropy}) instead of making all logits.
     */
    public Tensor finalHidden(int[] ids, int batch, int seqLen, KVCache cache, boolean lastOnly) {
        Tensor x = body(ids, batch, seqLen, cache);
        if (lastOnly && seqLen > 1) x = x.narrow(1, seqLen - 1, 1);   // (B, 1, C)
        return lnF.forward(x);                                        // (B, T|1, C)
    }

    /**
     * A text's embedding: the final LayerNorm's output (what the head reads) averaged over the
     * positions of {@code ids} (one sequence, at most the context length), then scaled to length 1,
     * as OpenAI's and llama.cpp's mean-pooled embeddings are. {@code C} floats; inference only.
     */
    public float[] embedding(int[] ids) {
        int t = ids.length, c = config.embDim();
        double[] sum = new double[c];
        try (GradMode g = GradMode.noGrad(); Arena a = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.PACKED)) {
            float[] h = finalHidden(ids, 1, t, null, false).toArray();   // (1, T, C)
            for (int p = 0; p < t; p++) for (int j = 0; j < c; j++) sum[j] += h[p * c + j];
        }
        double norm = 0;
        for (double v : sum) norm += v * v;
        norm = Math.sqrt(norm);
        float[] out = new float[c];
        for (int j = 0; j < c; j++) out[j] = norm == 0 ? 0f : (float) (sum[j] / norm); // (the mean's 1/T cancels)
        return out;
    }

    private Tensor body(int[] ids, int batch, int seqLen, KVCache cache) {
        if (batch < 1 || seqLen < 1 || ids.length != batch * seqLen) {
            throw new IllegalArgumentException(ids.length + " ids do not make a (" + batch + ", " + seqLen + ") batch");
        }
        int past = cache == null ? 0 : cache.length();
        if (cache != null) cache.checkFits(batch, seqLen);
        if (past + seqLen > config.contextLength()) {
            throw new IllegalArgumentException("sequence of " + (past + seqLen) + " tokens exceeds the context length " + config.contextLength());
        }
        // position ids (B, T): looked up per row so the add needs no broadcast index map
        int[] positions = new int[batch * seqLen];
        for (int i = 0; i < positions.length; i++) positions[i] = past + i % seqLen;
        Tensor tok = wte.forward(ids, batch, seqLen);                 // (B, T, C)
        Tensor pos = wpe.forward(positions, batch, seqLen);           // (B, T, C)
        Tensor x = dropEmb.forward(tok.add(pos));                     // (B, T, C)
        // inference on several positions (a prompt, a step without a cache): each block in a scope of its own, as serving does
        boolean nest = !GradMode.isEnabled() && batch * seqLen > 1;
        for (int i = 0; i < h.size(); i++) {
            TransformerBlock block = h.get(i);
            x = checkpointActivations && cache == null && GradMode.isEnabled()
                    ? Checkpoint.apply(x, dropout.sameMasks(block::forward))   // keeps only x; backward runs the block again
                    : nest ? inScope(i, x, cache, null, null) : block.forward(x, cache, i);
        }
        if (cache != null) cache.advance(seqLen);
        return x;
    }

    /**
     * One decode step for several sequences at once (batched serving): {@code ids[b]} is the next
     * token of the sequence cached in {@code caches[b]} (a cache of batch 1), at the position after
     * its cached ones. Returns logits {@code (B, 1, V)} and advances every cache by one. Row b is
     * what {@code forward(new int[]{ids[b]}, 1, 1, caches[b], true)} gives for that sequence alone;
     * bitwise so under a fixed {@link dev.myllm.tensor.ProductMode}. Inference only.
     */
    public Tensor decodeStep(int[] ids, KVCache[] caches) {
        int b = ids.length;
        if (b < 1 || caches.length != b) throw new IllegalArgumentException(b + " ids need as many caches, got " + caches.length);
        int[] positions = new int[b];
        for (int i = 0; i < b; i++) {
            caches[i].checkFits(1, 1);
            positions[i] = caches[i].length();
            if (positions[i] >= config.contextLength()) {
                throw new IllegalArgumentException("sequence " + i + " already fills the context length " + config.contextLength());
            }
            for (int j = 0; j < i; j++) if (caches[j] == caches[i]) throw new IllegalArgumentException("caches " + j + " and " + i + " are the same");
        }
        Tensor x = dropEmb.forward(wte.forward(ids, b, 1).add(wpe.forward(positions, b, 1)));   // (B, 1, C)
        for (int i = 0; i < h.size(); i++) x = servingBlock(i, x, caches, null);
        for (KVCache c : caches) c.advance(1);
        return head(lnF.forward(x));                                                             // (B, 1, V)
    }

    /**
     * One prefill step for several sequences at once (batched serving): {@code chunks[s]} are the
     * next prompt tokens of the sequence cached in {@code caches[s]} (a cache of batch 1), at the
     * positions after its cached ones. Their rows go through the model together (attention stays
     * within each sequence) and every cache advances by its chunk. Returns the logits of each
     * chunk's last position {@code (S, 1, V)}: row s is what
     * {@code forward(chunks[s], 1, chunks[s].length, caches[s], true)} gives for that sequence
     * alone, bitwise so under a fixed {@link dev.myllm.tensor.ProductMode}. Inference only.
     */
    public Tensor prefillStep(int[][] chunks, KVCache[] caches) {
        int n = chunks.length, total = 0;
        if (n < 1 || caches.length != n) throw new IllegalArgumentException(n + " chunks need as many caches, got " + caches.length);
        int[] lengths = new int[n];
        for (int s = 0; s < n; s++) {
            lengths[s] = chunks[s].length;
            caches[s].checkFits(1, lengths[s]);
            if (lengths[s] < 1) throw new IllegalArgumentException("chunk " + s + " is empty");
            if (caches[s].length() + lengths[s] > config.contextLength()) {
                throw new IllegalArgumentException("sequence " + s + " of " + (caches[s].length() + lengths[s]) + " tokens exceeds the context length " + config.contextLength());
            }
            for (int j = 0; j < s; j++) if (caches[j] == caches[s]) throw new IllegalArgumentException("caches " + j + " and " + s + " are the same");
            total += lengths[s];
        }
        int[] ids = new int[total], positions = new int[total];
        int[] last = new int[n];
        for (int s = 0, r = 0; s < n; s++) {
            for (int t = 0; t < lengths[s]; t++, r++) {
                ids[r] = chunks[s][t];
                positions[r] = caches[s].length() + t;
            }
            last[s] = r - 1;
        }
        Tensor x = dropEmb.forward(wte.forward(ids, 1, total).add(wpe.forward(positions, 1, total)));   // (1, ΣT, C)
        for (int i = 0; i < h.size(); i++) x = servingBlock(i, x, caches, lengths);
        for (int s = 0; s < n; s++) caches[s].advance(lengths[s]);
        int c = config.embDim();
        float[] rows = new float[n * c];
        for (int s = 0; s < n; s++) System.arraycopy(x.data(), last[s] * c, rows, s * c, c);
        return head(lnF.forward(Tensor.of(rows, n, 1, c)));                                         // (S, 1, V)
    }

    /**
     * Block {@code i} of a serving step ({@link #decodeStep}, {@link #prefillStep}). Inside an arena
     * scope it runs in a nested one, its output copied out to a buffer of the enclosing scope and
     * its input's buffer given back: a step then holds one block's intermediate activations, taken
     * again by every block, instead of all blocks' (a 512-row prefill of gpt2-small: about 25 MB
     * instead of 300 MB to allocate, page in and keep pooled). Copies only: the same values.
     */
    private Tensor servingBlock(int i, Tensor x, KVCache[] caches, int[] lengths) {
        return inScope(i, x, null, caches, lengths);
    }

    /**
     * Block {@code i} on x (with one sequence's {@code cache}, or the serving steps' {@code caches}
     * and {@code lengths} when those are given) in a nested arena scope when one is open, its output
     * copied out to a buffer of the enclosing scope and x's buffer given back; without a scope, just
     * the block. Inference only (nothing is kept for backward). No lambda: serving runs it 12 times a step.
     */
    private Tensor inScope(int i, Tensor x, KVCache cache, KVCache[] caches, int[] lengths) {
        TransformerBlock block = h.get(i);
        if (!Arena.active()) return caches != null ? block.forward(x, caches, lengths, i) : block.forward(x, cache, i);
        float[] out = Arena.uninitialized(x.data().length);
        try (Arena scope = Arena.open()) {
            float[] y = (caches != null ? block.forward(x, caches, lengths, i) : block.forward(x, cache, i)).data();
            System.arraycopy(y, 0, out, 0, out.length);
        }
        Arena.release(x.data()); // dead now; ignored unless the enclosing scope handed it out
        return Tensor.of(out, x.shape());
    }

    /**
     * The output head on final-normed states {@code (.., C)} ({@link #finalHidden}) → logits
     * {@code (.., V)}, from packed weights when the model has them: what {@link #forward} ends with,
     * for callers that want the logits of a few positions at a time.
     */
    public Tensor head(Tensor x) {
        Tensor logits = lmHead == null ? wte.attend(x) : lmHead.forward(x);
        return headAdapter == null ? logits : logits.add(headAdapter.apply(x));
    }

    /** The output head's weight {@code (V, C)}: {@code wte.weight} itself when tied. */
    public Tensor headWeight() {
        return lmHead == null ? wte.weight() : lmHead.weight();
    }

    /** A new, empty KV cache for {@code batch} sequences up to the context length. */
    public KVCache newCache(int batch) {
        return new KVCache(config, batch);
    }

    /**
     * Copies weights in, by Hugging Face GPT-2 name and in our {@code [out, in]} layout. Every
     * parameter must be present with its shape; unknown names are an error so a typo cannot pass.
     */
    public void loadStateDict(Map<String, Tensor> weights) {
        Map<String, Tensor> mine = namedParameters();
        List<String> missing = new ArrayList<>();
        for (var e : mine.entrySet()) {
            Tensor src = weights.get(e.getKey());
            if (src == null) {
                missing.add(e.getKey());
                continue;
            }
            Tensor dst = e.getValue();
            if (!Arrays.equals(src.shape(), dst.shape())) {
                throw new IllegalArgumentException("weight " + e.getKey() + " has shape " + Arrays.toString(src.shape())
                        + " but the model expects " + Arrays.toString(dst.shape()));
            }
            System.arraycopy(src.data(), 0, dst.data(), 0, dst.size());
        }
        if (!missing.isEmpty()) throw new IllegalArgumentException("missing weights: " + String.join(", ", missing));
        for (String name : weights.keySet()) {
            if (!mine.containsKey(name)) throw new IllegalArgumentException("unexpected weight " + name + " for this configuration");
        }
    }

    /** The separate output head, or null when it is tied to the token embedding. */
    public Linear outputHead() {
        return lmHead;
    }

    public Embedding tokenEmbedding() {
        return wte;
    }

    public Embedding positionEmbedding() {
        return wpe;
    }

    public TransformerBlock block(int i) {
        return h.get(i);
    }

    public LayerNorm finalNorm() {
        return lnF;
    }
}
