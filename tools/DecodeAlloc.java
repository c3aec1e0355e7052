import com.sun.management.ThreadMXBean;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.PackedWeights;
import dev.myllm.tensor.PackedMatrix;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * Heap allocation and garbage collection of cached decoding: a model of a preset with random
 * weights (float32, or packed into f16/bf16/q8_0), greedy generate calls as {@code bench generate}
 * makes them, warmed up, then timed calls. Prints the bytes allocated per generated token by all
 * threads (the caller and the pool's workers), the bytes per call, and the collections and their
 * pause time during the timed calls.
 *
 * <pre>
 * source tools/find-jdk.sh && mvn -q -B -o -Dmaven.test.skip=true package
 * java -XX:+UseParallelGC -XX:MaxNewSize=64m -Xmx4g --add-modules jdk.incubator.vector \
 *     -cp target/myllm.jar tools/DecodeAlloc.java gpt2-small bf16 4 200 5
 * </pre>
 * Arguments: preset, dtype (f32|f16|bf16|q8_0), prompt tokens, new tokens per call, timed calls;
 * {@code -Dwarmup=N} untimed calls first (10), {@code -Djfr=FILE} records the timed calls.
 */
public class DecodeAlloc {
    public static void main(String[] a) throws Exception {
        String preset = a[0], dtype = a[1].toLowerCase(Locale.ROOT);
        int promptLen = Integer.parseInt(a[2]), newTokens = Integer.parseInt(a[3]), calls = Integer.parseInt(a[4]);
        GPTConfig c = GPTConfig.preset(preset);
        GPTModel m = new GPTModel(c, 1);
        if (!dtype.equals("f32")) {
            PackedWeights.pack(m, PackedMatrix.Format.valueOf(dtype.toUpperCase(Locale.ROOT)));
            PackedWeights.dropFloatWeights(m);
        }
        System.gc();
        int[] prompt = new int[promptLen];
        for (int i = 0; i < promptLen; i++) prompt[i] = (i * 7919 + 13) % c.vocabSize();
        Generator gen = new Generator(m, null);
        GenerationConfig greedy = GenerationConfig.greedy(newTokens);
        int warm = Integer.getInteger("warmup", 10);
        for (int i = 0; i < warm; i++) gen.generate(prompt, greedy);
        // -Djfr=FILE: an allocation profile of the timed calls alone (jfr print --events jdk.ObjectAllocationSample FILE)
        jdk.jfr.Recording jfr = null;
        if (System.getProperty("jfr") != null) {
            jfr = new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
            jfr.start();
        }
        ThreadMXBean tm = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        long gcCount0 = 0, gcMs0 = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
            gcCount0 += b.getCollectionCount();
            gcMs0 += b.getCollectionTime();
        }
        long bytes0 = tm.getTotalThreadAllocatedBytes(), t0 = System.nanoTime();
        long tokens = 0;
        for (int i = 0; i < calls; i++) tokens += gen.generate(prompt, greedy).tokens().length;
        long bytes = tm.getTotalThreadAllocatedBytes() - bytes0;
        if (jfr != null) {
            jfr.stop();
            jfr.dump(java.nio.file.Path.of(System.getProperty("jfr")));
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        long gcCount = -gcCount0, gcMs = -gcMs0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
            gcCount += b.getCollectionCount();
            gcMs += b.getCollectionTime();
        }
        System.out.printf(Locale.ROOT, "%s %s prompt %d, %d calls x %d tokens in %.1f s: %,d bytes/token (%,d bytes/call); %d collections, %d ms%n",
                preset, dtype, promptLen, calls, newTokens, secs, bytes / tokens, bytes / calls, gcCount, gcMs);
    }
}
