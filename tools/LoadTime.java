import dev.myllm.io.GgufFile;
import dev.myllm.io.GgufModel;
import dev.myllm.tensor.PackedMatrix;
import java.nio.file.Path;

/**
 * Time to open a GGUF file for inference as stored (GgufModel.loadPacked), fresh JVM, cold JIT as a
 * user's first load: the F16/BF16 matrices copied into tiles (third argument COPIED, the
 * default) or read in place where the file is mapped (MAPPED). Prints the load's wall time and the process's resident memory.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp target/myllm.jar tools/LoadTime.java /tmp/gpt2-medium-f16.gguf F16 [COPIED|MAPPED]
 * </pre>
 */
public class LoadTime {
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        PackedMatrix.Format f = PackedMatrix.Format.valueOf(args[1]);
        PackedMatrix.Halves halves = PackedMatrix.Halves.valueOf(args.length > 2 ? args[2] : "COPIED");
        var c = GgufModel.config(GgufFile.open(file));
        long t = System.nanoTime();
        var m = GgufModel.loadPacked(file, c, f, halves);
        long ms = (System.nanoTime() - t) / 1_000_000;
        String rss = java.nio.file.Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS") || l.startsWith("RssAnon") || l.startsWith("RssFile")).reduce((a, b) -> a + ", " + b).orElse("");
        System.out.printf("%s as %s, %s: load %d ms; %s; heap used %d MB%n", file.getFileName(), f, halves, ms,
                rss.replaceAll("\\s+", " "), (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20);
        if (m.hashCode() == 42) System.out.println();
    }
}
