package dev.myllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.book.Chapter;
import dev.myllm.book.Report;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code myllm book}: runs a chapter's computations and prints each result beside the book's printed value. */
@Command(name = "book", mixinStandardHelpOptions = true,
        description = "Run a chapter of the book (ch02 ... ch07, appendix-a, appendix-d, appendix-e; all without a name) and compare with its printed numbers.")
final class BookCommand implements Runnable {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "CHAPTER", description = "ch02, ch03, ch04, ch05, ch06, ch07, appendix-a, appendix-d, appendix-e (default: all).")
    List<String> chapters = new ArrayList<>();

    @Option(names = "--json", description = "Print one JSON object per chapter.")
    boolean json;

    @Option(names = "--train", description = "With ch05: also run the chapter's training (90 steps of the 124M model, minutes on a CPU).")
    boolean train;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs/book-ch05",
            description = "Where --train keeps the trained model and its checkpoint (default ${DEFAULT-VALUE}).")
    java.nio.file.Path out;

    @Override
    public void run() {
        Map<String, Supplier<Report>> all = Chapter.all();
        List<String> names = chapters.isEmpty() ? new ArrayList<>(all.keySet()) : chapters;
        for (String n : names) {
            if (!all.containsKey(n)) throw new CliException("unknown chapter '" + n + "'; choose from " + String.join(", ", all.keySet()));
        }
        if (train && !names.contains("ch05")) throw new CliException("--train applies to ch05");
        if (train) OutputPaths.directory("--out", this.out); // before minutes of training, not after
        PrintWriter out = spec.commandLine().getOut();
        boolean allSame = true;
        List<String> runs = new ArrayList<>(names);
        if (train) runs.add(runs.indexOf("ch05") + 1, "ch05 --train");
        for (String n : runs) {
            long t0 = System.nanoTime();
            Report r = n.equals("ch05 --train") ? Chapter.ch05Training(this.out, new ProgressLine(System.err, 5)) : all.get(n).get();
            double seconds = (System.nanoTime() - t0) / 1e9;
            allSame &= r.allSame();
            if (json) out.println(json(r, seconds));
            else print(out, r, seconds);
            out.flush();
        }
        if (!allSame) throw new CliException("some results differ from the book (marked ✗)");
    }

    private static void print(PrintWriter out, Report r, double seconds) {
        out.printf("%s — %s%n", r.chapter(), r.title());
        for (Report.Row row : r.rows()) {
            String mark = switch (row.mark()) {
                case SAME -> "✓";
                case DIFFERENT -> "✗";
                case NOTE -> "·";
            };
            out.printf("  %s %-44s %s%n", mark, row.what(), oneLine(row.ours()));
            if (row.mark() != Report.Mark.SAME) {
                out.printf("    %-44s %s%s%n", "book:", oneLine(row.book()), row.note().isEmpty() ? "" : "  (" + row.note() + ")");
            }
        }
        long same = r.rows().stream().filter(x -> x.mark() == Report.Mark.SAME).count();
        // a note is shown beside the book's number, not checked against it: it is not one of the results counted
        long notes = r.rows().stream().filter(x -> x.mark() == Report.Mark.NOTE).count();
        out.printf(Locale.ROOT, "  %d of %d results as printed in the book%s, %.1f s%n%n", same, r.rows().size() - notes,
                notes == 0 ? "" : " (and " + notes + (notes == 1 ? " note)" : " notes)"), seconds);
    }

    /** Texts with line breaks print on one line, the breaks written as Python would ({@code \n}). */
    private static String oneLine(String s) {
        return s.replace("\n", "\\n");
    }

    private static String json(Report r, double seconds) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode().put("chapter", r.chapter()).put("title", r.title()).put("seconds", seconds);
        ArrayNode rows = o.putArray("results");
        for (Report.Row row : r.rows()) {
            rows.addObject().put("what", row.what()).put("ours", row.ours()).put("book", row.book())
                    .put("mark", row.mark().name().toLowerCase(Locale.ROOT)).put("note", row.note());
        }
        return o.toString();
    }
}
