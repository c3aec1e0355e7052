import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.PackedWeights;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.Rng;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decoding's rate beside the memory bandwidth the machine gives at the same moment, in one JVM:
 * rounds of a greedy decode of gpt2-small (f32, random weights, packed as {@code bench generate}
 * has them) each followed by a plain read of another 495 MB (the weights' size) with the same
 * pool's threads. Prints each round's tokens/s and GB/s, then the median decode rate of the rounds
 * read at 65 GB/s or more and of those below 60. On the 2-core EPYC machine a JVM's decoding
 * switches between about 90-100 and 145-155 tokens/s within the process, and the plain read
 * between about 45 and 80 GB/s with it (4 December): the "slow mode" is the machine's, not the JIT's.
 *
 * <pre>
 * source tools/find-jdk.sh && $JAVA_HOME/bin/java -XX:+UseParallelGC -XX:MaxNewSize=16m -XX:+UseTransparentHugePages \
 *     -XX:ObjectAlignmentInBytes=64 -XX:PerMethodTrapLimit=10000 -XX:CompileCommand=quiet \
 *     -XX:CompileCommand=inline,dev.myllm.tensor.VecMath::exp -XX:CompileCommand=inline,dev.myllm.tensor.VecMath::sum --add-modules jdk.incubator.vector \
 *     -cp target/myllm.jar tools/DecodeBandwidth.java [rounds=30] [new tokens=64]
 * </pre>
 */
public class DecodeBandwidth {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHUNKS = 49, PER = 495_000_000 / 4 / CHUNKS;
    private static volatile float sink;

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        int newTokens = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        GPTConfig config = GPTConfig.preset("gpt2-small");
        GPTModel model = new GPTModel(config, 123);
        model.eval();
        PackedWeights.packAndDrop(model, PackedWeights.decodingFormat("f32"), dropped -> { });
        System.gc();
        Generator gen = new Generator(model, null);
        Rng r = new Rng(7);
        int[] prompt = new int[64];
        for (int i = 0; i < prompt.length; i++) prompt[i] = r.nextInt(config.vocabSize());
        float[][] other = new float[CHUNKS][PER];
        for (float[] a : other) java.util.Arrays.fill(a, 1f);
        for (int w = 0; w < 3; w++) {
            gen.generate(prompt, GenerationConfig.greedy(newTokens));
            readGbps(other);
        }
        double[] tps = new double[rounds], gbps = new double[rounds];
        for (int k = 0; k < rounds; k++) {
            Generator.Result res = gen.generate(prompt, GenerationConfig.greedy(newTokens));
            tps[k] = (res.tokens().length - 1) / (res.decodeNanos() / 1e9);
            gbps[k] = readGbps(other);
            System.out.printf("round %2d  decode %6.1f tokens/s  read %5.1f GB/s%n", k, tps[k], gbps[k]);
        }
        java.util.List<Double> fast = new java.util.ArrayList<>(), slow = new java.util.ArrayList<>();
        for (int k = 0; k < rounds; k++) {
            if (gbps[k] >= 65) fast.add(tps[k]);
            else if (gbps[k] < 60) slow.add(tps[k]);
        }
        System.out.printf("read >= 65 GB/s: %d rounds, decode median %.1f tokens/s; read < 60 GB/s: %d rounds, decode median %.1f%n",
                fast.size(), median(fast), slow.size(), median(slow));
    }

    /** The median of three 2-thread reads of {@code w}, GB/s. */
    private static double readGbps(float[][] w) {
        double[] g = new double[3];
        for (int k = 0; k < 3; k++) {
            long t0 = System.nanoTime();
            Parallel.forRange(2, 1, (start, end) -> {
                float s = 0;
                for (float[] a : w) s += sum(a, (int) ((long) PER * start / 2), (int) ((long) PER * end / 2));
                sink = s;
            });
            g[k] = (double) CHUNKS * PER * 4 / (System.nanoTime() - t0);
        }
        java.util.Arrays.sort(g);
        return g[1];
    }

    private static float sum(float[] a, int from, int to) {
        int l = S.length();
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int i = from;
        for (; i + 4 * l <= to; i += 4 * l) {
            a0 = a0.add(FloatVector.fromArray(S, a, i));
            a1 = a1.add(FloatVector.fromArray(S, a, i + l));
            a2 = a2.add(FloatVector.fromArray(S, a, i + 2 * l));
            a3 = a3.add(FloatVector.fromArray(S, a, i + 3 * l));
        }
        float s = a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) s += a[i];
        return s;
    }

    private static double median(java.util.List<Double> x) {
        if (x.isEmpty()) return Double.NaN;
        double[] s = x.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
