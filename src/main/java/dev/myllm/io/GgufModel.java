package dev.myllm.io;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.PackedWeights;
import dev.myllm.tensor.PackedMatrix;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.Tensor;
import dev.myllm.tokenizer.BpeTokenizer;
import dev.myllm.tokenizer.BpeVocab;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.TrainedBpe;

import dev.myllm.util.AtomicFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * GPT-2 as llama.cpp reads it from GGUF (architecture {@code gpt2}): the keys and their exact
 * types, tensor names ({@code token_embd.weight}, {@code blk.N.attn_qkv.weight}, ...), and the
 * embedded byte-level BPE tokenizer. Our weights are {@code [out, in]} row-major, which is ggml's
 * {@code ne = [in, out]}, so no tensor is transposed either way. 1-D tensors and
 * {@code position_embd} are always F32; a block type applies only to matrices whose rows are whole
 * blocks (others as llama-quantize falls back: Q5_0 for Q4_K, Q8_0 for Q6_K, else F16);
 * {@code output.weight} is written only for an untied head. A vocabulary
 * trained here also goes in whole as {@code myllm.tokenizer}, which we read it back from.
 */
public final class GgufModel {
    /** Rows of a matrix converted at a time (per thread) when the file stores it in another type. */
    private static final int CONVERT_ROWS = 64;

    private static final String ARCH = "gpt2";

    /**
     * The key holding a vocabulary trained here as its {@code myllm-tokenizer.json}: the tokens and merges say
     * GPT-2's pre-splitting and merging by rank, which is not how such a vocabulary reads text.
     */
    public static final String TOKENIZER_KEY = "myllm.tokenizer";

    private GgufModel() {
    }

    /** Our parameter name → GGUF tensor name, in the order convert_hf_to_gguf writes them. */
    static SequencedMap<String, String> names(GPTConfig c) {
        SequencedMap<String, String> m = new LinkedHashMap<>();
        m.put("wte.weight", "token_embd.weight");
        m.put("wpe.weight", "position_embd.weight");
        for (int i = 0; i < c.nLayers(); i++) {
            String h = "h." + i + ".", b = "blk." + i + ".";
            m.put(h + "ln_1.weight", b + "attn_norm.weight");
            m.put(h + "ln_1.bias", b + "attn_norm.bias");
            m.put(h + "attn.c_attn.weight", b + "attn_qkv.weight");
            m.put(h + "attn.c_attn.bias", b + "attn_qkv.bias");
            m.put(h + "attn.c_proj.weight", b + "attn_output.weight");
            m.put(h + "attn.c_proj.bias", b + "attn_output.bias");
            m.put(h + "ln_2.weight", b + "ffn_norm.weight");
            m.put(h + "ln_2.bias", b + "ffn_norm.bias");
            m.put(h + "mlp.c_fc.weight", b + "ffn_up.weight");
            m.put(h + "mlp.c_fc.bias", b + "ffn_up.bias");
            m.put(h + "mlp.c_proj.weight", b + "ffn_down.weight");
            m.put(h + "mlp.c_proj.bias", b + "ffn_down.bias");
        }
        m.put("ln_f.weight", "output_norm.weight");
        m.put("ln_f.bias", "output_norm.bias");
        if (!c.tiedHead()) m.put("lm_head.weight", "output.weight");
        return m;
    }

    /** llama.cpp's {@code general.file_type} for a file whose matrices are mostly {@code t}. */
    static int fileType(GgufType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case BF16 -> 32;
            case Q5_0 -> 8;
            case Q5_1 -> 9;
            case Q2_K -> 10;
            case Q3_K -> 12; // the _M mixtures: a file of one K type is what llama-quantize --pure writes for them
            case Q4_K -> 15;
            case Q5_K -> 17;
            case Q6_K -> 18;
            case IQ4_NL -> 25;
        };
    }

    /** The type a tensor is stored as in a file of type {@code fileType}. */
    static GgufType tensorType(String ggufName, long[] ne, GgufType fileType) {
        if (ne.length == 1 || ggufName.equals("position_embd.weight")) return GgufType.F32;
        return fileType.fallback(ne[0]);
    }

    /** The type a tensor of a model of {@code c} is stored as in a file of {@code mix}: as llama.cpp's choice. */
    static GgufType tensorType(String ggufName, long[] ne, GgufMixture mix, GPTConfig c) {
        if (ne.length == 1 || ggufName.equals("position_embd.weight")) return GgufType.F32; // llama.cpp quantises neither
        return mix.matrixType(ggufName, ne[0], c.nLayers(), c.tiedHead());
    }

    /**
     * Writes {@code model} with {@code vocab} (as long as the model's vocabulary) to {@code file}
     * (atomically), matrices stored as {@code type} (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K or Q6_K; a
     * matrix whose rows are not whole blocks as {@link GgufType#fallback} says).
     */
    public static void save(GPTModel model, BpeVocab vocab, String name, Path file, GgufType type) {
        save(model, vocab, name, file, type, Map.of());
    }

    /** As {@link #save(GPTModel, BpeVocab, String, Path, GgufType)}, with {@code strings} as further string keys, in their order. */
    public static void save(GPTModel model, BpeVocab vocab, String name, Path file, GgufType type, Map<String, String> strings) {
        AtomicFiles.write(file, writer(model, vocab, name, file, type, strings));
    }

    /**
     * What {@link #save(GPTModel, BpeVocab, String, Path, GgufType, Map)} writes, for {@link AtomicFiles#writeAll} to
     * write with other files ({@code file} names it in errors); the keys are checked and laid out now.
     */
    public static AtomicFiles.Writer writer(GPTModel model, BpeVocab vocab, String name, Path file, GgufType type, Map<String, String> strings) {
        return writer(model, vocab, name, file, fileType(type), (n, ne) -> tensorType(n, ne, type), strings);
    }

    /** As {@link #writer(GPTModel, BpeVocab, String, Path, GgufType, Map)}, each matrix in the type llama.cpp gives it in {@code mix}. */
    public static AtomicFiles.Writer writer(GPTModel model, BpeVocab vocab, String name, Path file, GgufMixture mix, Map<String, String> strings) {
        GPTConfig c = model.config();
        return writer(model, vocab, name, file, mix.fileType, (n, ne) -> tensorType(n, ne, mix, c), strings);
    }

    private static AtomicFiles.Writer writer(GPTModel model, BpeVocab vocab, String name, Path file, int fileType,
                                             java.util.function.BiFunction<String, long[], GgufType> typeOf, Map<String, String> strings) {
        GPTConfig c = model.config();
        if (vocab.tokens().size() != c.vocabSize()) {
            throw new IllegalArgumentException(file + ": the tokenizer has " + vocab.tokens().size() + " tokens, the model " + c.vocabSize() + " rows");
        }
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", ARCH);
        w.putString("general.name", name);
        w.putU32("general.file_type", fileType);
        w.putU32("general.quantization_version", 2);
        w.putU32(ARCH + ".context_length", c.contextLength());
        w.putU32(ARCH + ".embedding_length", c.embDim());
        w.putU32(ARCH + ".feed_forward_length", c.hiddenDim());
        w.putU32(ARCH + ".block_count", c.nLayers());
        w.putU32(ARCH + ".attention.head_count", c.nHeads());
        w.putF32(ARCH + ".attention.layer_norm_epsilon", c.layerNormEps());
        w.putString("tokenizer.ggml.model", "gpt2");
        w.putString("tokenizer.ggml.pre", "gpt-2");
        w.putStrings("tokenizer.ggml.tokens", vocab.tokens());
        w.putI32s("tokenizer.ggml.token_type", vocab.types());
        w.putStrings("tokenizer.ggml.merges", vocab.merges());
        if (vocab.eot() >= 0) {
            w.putU32("tokenizer.ggml.bos_token_id", vocab.eot());
            w.putU32("tokenizer.ggml.eos_token_id", vocab.eot());
        }
        w.putBool("tokenizer.ggml.add_bos_token", false);
        w.putBool("tokenizer.ggml.add_eos_token", false);
        strings.forEach(w::putString);
        Map<String, Tensor> params = model.namedParameters();
        float[] zeroQkvBias = new float[3 * c.embDim()];
        for (var e : names(c).entrySet()) {
            Tensor p = params.get(e.getKey());
            float[] data = p == null ? zeroQkvBias : p.data(); // a model without QKV bias: llama.cpp needs one, zeros
            long[] ne = p == null ? new long[]{3L * c.embDim()} : ne(p.shape());
            w.addTensor(e.getValue(), ne, typeOf.apply(e.getValue(), ne), data, 0);
        }
        return w::writeTo;
    }

    private static long[] ne(int[] shape) {
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) ne[i] = shape[shape.length - 1 - i];
        return ne;
    }

    /** The configuration a GPT-2 GGUF file describes; unknown architectures and missing keys are one-line errors. */
    public static GPTConfig config(GgufFile g) {
        Path f = g.file();
        GgufFile.Value arch = g.get("general.architecture");
        if (arch == null) throw GgufFile.bad(f, "missing key general.architecture");
        if (!(arch.value() instanceof String a) || !a.equals(ARCH)) {
            throw GgufFile.bad(f, "architecture '" + GgufFile.clip(String.valueOf(arch.value())) + "' is not supported (only gpt2)");
        }
        long ctx = g.unsigned(ARCH + ".context_length", GgufFile.U32);
        long emb = g.unsigned(ARCH + ".embedding_length", GgufFile.U32);
        long layers = g.unsigned(ARCH + ".block_count", GgufFile.U32);
        long heads = g.unsigned(ARCH + ".attention.head_count", GgufFile.U32);
        float eps = g.f32(ARCH + ".attention.layer_norm_epsilon");
        GgufFile.Value ffv = g.get(ARCH + ".feed_forward_length");
        long ff = ffv != null && ffv.type() == GgufFile.U32 ? (long) ffv.value() : 4 * emb;
        if (ff != 4 * emb) throw GgufFile.bad(f, ARCH + ".feed_forward_length " + ff + " is not 4 × embedding_length " + emb + " (only GPT-2's shape is supported)");
        GgufFile.Info wte = g.tensors().get("token_embd.weight");
        if (wte == null) throw GgufFile.bad(f, "missing tensor token_embd.weight");
        if (wte.ne().length != 2) throw GgufFile.bad(f, "tensor token_embd.weight has " + wte.ne().length + " dimensions, expected 2");
        long vocab = wte.ne()[1];
        long limit = 1L << 24;
        if (ctx > limit || emb > limit || layers > 4096 || heads > limit || vocab > limit) {
            throw GgufFile.bad(f, "model dimensions are out of range (context " + ctx + ", width " + emb + ", layers " + layers + ", heads " + heads + ", vocabulary " + vocab + ")");
        }
        boolean tied = !g.tensors().containsKey("output.weight");
        try {
            return new GPTConfig((int) vocab, (int) ctx, (int) emb, (int) heads, (int) layers, 0f, true, tied, eps); // no dropout is stored: none
        } catch (IllegalArgumentException e) {
            throw GgufFile.bad(f, e.getMessage());
        }
    }

    /** Checks every tensor's name, shape and presence against {@code c}; returns GGUF name → our name. */
    static Map<String, String> plan(GgufFile g, GPTConfig c) {
        Map<String, String> ours = new LinkedHashMap<>();
        names(c).forEach((mine, theirs) -> ours.put(theirs, mine));
        Map<String, int[]> shapes = new LinkedHashMap<>();
        Gpt2Layout.fileShapes(c).forEach((n, s) -> shapes.put(n, Gpt2Layout.isConv1d(n) ? new int[]{s[1], s[0]} : s));
        for (GgufFile.Info t : g.tensors().values()) {
            String mine = ours.get(t.name());
            if (mine == null) throw GgufFile.bad(g.file(), "unexpected tensor '" + GgufFile.clip(t.name()) + "' for a gpt2 model of " + c.nLayers() + " layers");
            int[] want = shapes.get(mine);
            long[] wantNe = ne(want);
            if (!Arrays.equals(t.ne(), wantNe)) {
                throw GgufFile.bad(g.file(), "tensor '" + GgufFile.clip(t.name()) + "' has ne " + Arrays.toString(t.ne()) + ", expected " + Arrays.toString(wantNe));
            }
        }
        List<String> missing = new ArrayList<>();
        for (String theirs : ours.keySet()) {
            if (!g.tensors().containsKey(theirs)) missing.add(theirs);
        }
        if (!missing.isEmpty()) {
            throw GgufFile.bad(g.file(), "missing tensor" + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing.subList(0, Math.min(4, missing.size())))
                    + (missing.size() > 4 ? " and " + (missing.size() - 4) + " more" : ""));
        }
        return ours;
    }

    /** Loads a GPT-2 GGUF file into a float32 model of its own configuration. */
    public static GPTModel load(Path file) {
        try (GgufFile g = GgufFile.open(file)) {
            return load(g, config(g));
        }
    }

    /** Loads into a model of {@code c} (the file's, perhaps with a shorter context or other dropout). */
    public static GPTModel load(GgufFile g, GPTConfig c) {
        GPTConfig own = fits(g, c);
        Map<String, String> plan = plan(g, own);
        GPTModel m = GPTModel.unfilled(c); // every weight is read below
        Map<String, Tensor> params = m.namedParameters();
        for (var e : plan.entrySet()) read(g, g.tensors().get(e.getKey()), e.getValue(), own, params.get(e.getValue()));
        return m;
    }

    /** Reads a float32 parameter; the position table only as far as {@code p}'s context length. */
    private static void read(GgufFile g, GgufFile.Info t, String mine, GPTConfig own, Tensor p) {
        if (mine.equals("wpe.weight")) {
            float[] wpe = new float[own.contextLength() * own.embDim()];
            g.dequantize(t, wpe, 0);
            System.arraycopy(wpe, 0, p.data(), 0, p.size());
        } else {
            g.dequantize(t, p.data(), 0);
        }
    }

    /** As {@link #loadPacked(Path, GPTConfig, PackedMatrix.Format, PackedMatrix.Halves)}, F16/BF16 read where mapped (no copy: starts at once). */
    public static GPTModel loadPacked(Path file, GPTConfig c, PackedMatrix.Format f) {
        return loadPacked(file, c, f, PackedMatrix.Halves.MAPPED);
    }

    /**
     * Loads {@code file} for inference with its matrices kept as {@code f} (block types only where
     * rows are a multiple of 32, else F16), no float32 copy of them ever made on the heap: a matrix
     * the file stores as that type comes from the memory-mapped file (F32 used in place, F16 and BF16
     * as {@code halves} says, the block types repacked), any other is widened and encoded one matrix
     * at a time. A mapping read in place stays open for the life of the process, as the matrices
     * read from it.
     */
    public static GPTModel loadPacked(Path file, GPTConfig c, PackedMatrix.Format f, PackedMatrix.Halves halves) {
        return loadPacked(file, c, f, halves, false);
    }

    /**
     * As {@link #loadPacked(Path, GPTConfig, PackedMatrix.Format, PackedMatrix.Halves)}; {@code byDefault} when {@code f}
     * is the file's own type rather than one asked for: then a matrix stored in a type the kernels do not run is not
     * brought below Q8_0 ({@link #ownFormat}).
     */
    public static GPTModel loadPacked(Path file, GPTConfig c, PackedMatrix.Format f, PackedMatrix.Halves halves, boolean byDefault) {
        GgufFile g = GgufFile.open(file);
        boolean inPlace = false;
        try {
            GPTConfig own = fits(g, c);
            Map<String, String> plan = plan(g, own);
            GPTModel m = GPTModel.unfilledForPacking(c);
            Map<String, Tensor> params = m.namedParameters();
            java.util.Set<String> packable = PackedWeights.packable(m).keySet();
            Map<String, PackedMatrix> ready = new LinkedHashMap<>();
            for (var e : plan.entrySet()) {
                GgufFile.Info t = g.tensors().get(e.getKey());
                String mine = e.getValue();
                if (!packable.contains(mine)) {
                    read(g, t, mine, own, params.get(mine));
                    continue;
                }
                int rows = (int) t.ne()[1], cols = (int) t.ne()[0];
                PackedMatrix.Format want = PackedWeights.formatFor(byDefault ? ownFormat(t.type(), f) : f, cols);
                if (t.type().name().equals(want.name())) {
                    ready.put(mine, PackedMatrix.wrap(want, rows, cols, g.bytes(t), halves));
                    inPlace |= PackedMatrix.inPlace(want, halves);
                } else {
                    ready.put(mine, convert(g, t, want, rows, cols));
                }
            }
            PackedWeights.pack(m, f, ready);
            return m;
        } finally {
            if (!inPlace) g.close(); // nothing reads the mapping any more
        }
    }

    /**
     * Tensor {@code t} as a {@code (rows, cols)} matrix of {@code want}: chunks of rows widened to float32 and
     * encoded, threads taking chunks with a small buffer each (a whole float32 copy of the token table was
     * 154 MB of garbage for gpt2-small), each chunk's pages of the file released once it is done.
     */
    private static PackedMatrix convert(GgufFile g, GgufFile.Info t, PackedMatrix.Format want, int rows, int cols) {
        PackedMatrix out = PackedMatrix.empty(want, rows, cols);
        int chunks = (rows + CONVERT_ROWS - 1) / CONVERT_ROWS;
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        Parallel.forRange(Math.min(chunks, Parallel.threads()), 1, (t0, t1) -> {
            float[] w = new float[CONVERT_ROWS * cols];
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                int r0 = c * CONVERT_ROWS, n = Math.min(CONVERT_ROWS, rows - r0);
                g.dequantizeRows(t, r0, n, w, 0);
                out.encodeRows(w, 0, r0, n);
                // a mapping's pages count as the process's memory while resident: these rows are done
                PackedDirectory.release(g.bytes(t), t.type().bytes((long) r0 * cols), t.type().bytes((long) n * cols));
            }
        });
        return out;
    }

    /** Checks that the file holds a model {@code c} may be loaded from; returns the file's own configuration. */
    private static GPTConfig fits(GgufFile g, GPTConfig c) {
        GPTConfig own = config(g);
        if (own.contextLength() < c.contextLength()) {
            throw GgufFile.bad(g.file(), "has " + own.contextLength() + " positions, fewer than the context length " + c.contextLength() + " asked for");
        }
        if (c.tiedHead() != own.tiedHead() || !c.qkvBias() || c.vocabSize() != own.vocabSize() || c.embDim() != own.embDim()
                || c.nHeads() != own.nHeads() || c.nLayers() != own.nLayers()) {
            throw GgufFile.bad(g.file(), "holds " + Gpt2Layout.describe(own) + ", not the configuration asked for (" + Gpt2Layout.describe(c) + ")");
        }
        return own;
    }

    /**
     * The string keys a file of {@code tok}'s vocabulary carries beyond {@code tokenizer.ggml.*}: a vocabulary
     * trained here as {@link #TOKENIZER_KEY}; none for any other (GPT-2's files stay as llama.cpp's own).
     */
    public static Map<String, String> tokenizerKeys(Tokenizer tok) {
        return tok instanceof TrainedBpe t ? Map.of(TOKENIZER_KEY, t.toJson()) : Map.of();
    }

    /** The file's tokenizer: the vocabulary trained here under {@link #TOKENIZER_KEY} when it has one, else {@link #ggmlTokenizer}. */
    public static Tokenizer tokenizer(GgufFile g) {
        GgufFile.Value v = g.get(TOKENIZER_KEY);
        if (v == null) return ggmlTokenizer(g);
        Path f = g.file();
        String where = f + ": key " + TOKENIZER_KEY;
        if (!(v.value() instanceof String json)) throw new IllegalArgumentException(where + " is a " + v.typeName() + ", not a string");
        TrainedBpe t = TrainedBpe.fromJson(json, where, f.getFileName().toString());
        // the tokens llama.cpp reads must be this vocabulary's, else the two would give ids different meanings
        List<Object> tokens = g.array("tokenizer.ggml.tokens", GgufFile.STRING);
        if (t.vocabSize() > tokens.size()) {
            throw new IllegalArgumentException(where + ": holds " + t.vocabSize() + " tokens, tokenizer.ggml.tokens " + tokens.size());
        }
        List<String> mine = BpeVocab.of(t, tokens.size()).tokens();
        for (int id = 0; id < tokens.size(); id++) {
            if (!mine.get(id).equals(tokens.get(id))) {
                throw new IllegalArgumentException(where + ": token " + id + " is '" + GgufFile.clip(mine.get(id)) + "', in tokenizer.ggml.tokens '"
                        + GgufFile.clip(String.valueOf(tokens.get(id))) + "'");
            }
        }
        return t;
    }

    /**
     * The tokenizer {@code tokenizer.ggml.*} describe (llama.cpp's {@code gpt2} model: GPT-2's pre-splitting,
     * merges by rank), whatever else the file holds.
     */
    public static BpeTokenizer ggmlTokenizer(GgufFile g) {
        Path f = g.file();
        String model = g.string("tokenizer.ggml.model");
        if (!model.equals("gpt2")) throw GgufFile.bad(f, "tokenizer.ggml.model '" + GgufFile.clip(model) + "' is not supported (only gpt2, byte-level BPE)");
        List<Object> tokens = g.array("tokenizer.ggml.tokens", GgufFile.STRING);
        List<Object> merges = g.array("tokenizer.ggml.merges", GgufFile.STRING);
        GgufFile.Value tt = g.get("tokenizer.ggml.token_type");
        int[] types = new int[tokens.size()];
        Arrays.fill(types, BpeVocab.NORMAL);
        if (tt != null) {
            List<Object> l = g.array("tokenizer.ggml.token_type", GgufFile.I32);
            if (l.size() != tokens.size()) throw GgufFile.bad(f, "tokenizer.ggml.token_type has " + l.size() + " entries for " + tokens.size() + " tokens");
            for (int i = 0; i < types.length; i++) types[i] = (int) (long) (Long) l.get(i);
        }
        List<String> tok = new ArrayList<>(tokens.size());
        for (Object o : tokens) tok.add((String) o);
        List<String> mer = new ArrayList<>(merges.size());
        for (Object o : merges) mer.add((String) o);
        try {
            return new BpeVocab(tok, types, mer, -1).toTokenizer(f.getFileName().toString());
        } catch (IllegalArgumentException e) {
            throw GgufFile.bad(f, GgufFile.oneLine(e.getMessage()));
        }
    }

    /**
     * The format a matrix stored as {@code stored} runs in when a file's default is {@code f}: {@code f}, but not
     * below Q8_0 for a type the kernels do not run. llama-quantize's Q4_0 and Q4_1 files keep the token embedding
     * (the tied head) in Q6_K; quantised again to 4 bits it took the demo model's greedy tokens away from llama.cpp's.
     */
    static PackedMatrix.Format ownFormat(GgufType stored, PackedMatrix.Format f) {
        boolean fourBits = f == PackedMatrix.Format.Q4_0 || f == PackedMatrix.Format.Q4_1;
        return fourBits && stored.runType() != stored ? PackedMatrix.Format.Q8_0 : f;
    }

    /** What a file whose default run type is {@code base} runs as, its matrices of {@code types}: {@code base}, and which run as Q8_0 instead. */
    public static String runsAs(String base, java.util.Set<GgufType> types) {
        PackedMatrix.Format f = PackedWeights.decodingFormat(base);
        List<String> up = types.stream().filter(t -> ownFormat(t, f) != f).sorted().map(Enum::name).toList();
        return up.isEmpty() ? base : base + " (its " + String.join(", ", up) + " matrices as q8_0)";
    }

    /** The types of a file's matrices (the tensors that may be packed: 2-D, but the position table). */
    public static java.util.Set<GgufType> matrixTypes(GgufFile g) {
        java.util.Set<GgufType> out = java.util.EnumSet.noneOf(GgufType.class);
        for (GgufFile.Info t : g.tensors().values()) {
            if (t.ne().length == 2 && !t.name().equals("position_embd.weight")) out.add(t.type());
        }
        return out;
    }

    /** How many of the file's tensors each type stores, most first (ties in the enum's order). */
    public static Map<GgufType, Integer> typeCounts(GgufFile g) {
        Map<GgufType, Integer> n = new java.util.EnumMap<>(GgufType.class);
        for (GgufFile.Info t : g.tensors().values()) n.merge(t.type(), 1, Integer::sum);
        Map<GgufType, Integer> out = new LinkedHashMap<>();
        n.entrySet().stream().sorted(Map.Entry.<GgufType, Integer>comparingByValue().reversed()).forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /** llama.cpp's name of the file's {@code general.file_type} ({@code Q4_K_M}, ...), its number if unknown, or null if absent. */
    public static String fileTypeName(GgufFile g) {
        GgufFile.Value v = g.get("general.file_type");
        if (v == null || !(v.value() instanceof Long n)) return null;
        String[] names = {"F32", "F16", "Q4_0", "Q4_1", null, null, null, "Q8_0", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L",
                "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ2_XXS", "IQ2_XS", "Q2_K_S", "IQ3_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
                "IQ3_S", "IQ3_M", "IQ2_S", "IQ2_M", "IQ4_XS", "IQ1_M", "BF16"};
        return n >= 0 && n < names.length && names[n.intValue()] != null ? names[n.intValue()] : "type " + n;
    }

    /** How most matrices of the file are stored ({@code blk.0.attn_qkv.weight}'s type). */
    public static GgufType storedType(GgufFile g) {
        GgufFile.Info t = g.tensors().get("blk.0.attn_qkv.weight");
        return t == null ? GgufType.F32 : t.type();
    }

    /** The tokenizer embedded in a GGUF file, as {@link #tokenizer(GgufFile)}. */
    public static Tokenizer tokenizer(Path file) {
        try (GgufFile g = GgufFile.open(file)) {
            return tokenizer(g);
        }
    }
}
