package dev.myllm.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.IHelpSectionRenderer;

/**
 * Mends the help picocli wraps inside a word. It breaks lines where {@link java.text.BreakIterator}
 * allows, which includes after the dot of {@code model.safetensors}, {@code llama.cpp} or
 * {@code myllm-tokenizer.json} and the colon of {@code http://}: a line then ended like a sentence
 * ("config.json + model.") and the next began "safetensors)". Such a word is moved whole to the
 * next line, which is split at a space if it grows too long.
 */
final class HelpWrapping {
    private HelpWrapping() {
    }

    /** Wraps every help section of {@code cl} and of all its subcommands in {@link #mend}. */
    static void install(CommandLine cl) {
        int width = cl.getUsageHelpWidth();
        Map<String, IHelpSectionRenderer> sections = new LinkedHashMap<>(cl.getHelpSectionMap());
        sections.replaceAll((key, renderer) -> help -> mend(renderer.render(help), width));
        cl.setHelpSectionMap(sections); // applies to the whole hierarchy of subcommands
    }

    /** {@code text} with every word cut after its dot (or a URL after its colon) joined again on the next line. */
    static String mend(String text, int width) {
        String nl = System.lineSeparator();
        List<String> lines = new ArrayList<>(List.of(text.split(nl, -1)));
        for (int i = 0; i + 1 < lines.size(); i++) {
            String a = lines.get(i), b = lines.get(i + 1);
            int space = a.lastIndexOf(' ');
            if (space < 0 || a.substring(0, space).isBlank() || !cutInsideAWord(a, b)) continue;
            int indent = b.length() - b.stripLeading().length();
            String joined = b.substring(0, indent) + a.substring(space + 1) + b.substring(indent);
            lines.set(i, a.substring(0, space).stripTrailing());
            int cut = joined.lastIndexOf(' ', width);
            if (joined.length() <= width || cut <= indent) {
                lines.set(i + 1, joined); // fits, or one word longer than the line: left long
            } else {
                lines.set(i + 1, joined.substring(0, cut));
                lines.add(i + 2, " ".repeat(indent) + joined.substring(cut + 1));
            }
        }
        return String.join(nl, lines);
    }

    /**
     * Whether line {@code a} ends inside a word that {@code b} continues: "model." then "safetensors",
     * or "http:" then "//localhost". A line indented by exactly two spaces starts a new entry of a
     * command list ("  train  Pretrain a GPT ...") and continues nothing.
     */
    private static boolean cutInsideAWord(String a, String b) {
        String next = b.strip();
        if (next.isEmpty() || (b.startsWith("  ") && !b.startsWith("   "))) return false;
        return a.endsWith(".") && Character.isLowerCase(next.charAt(0)) || a.endsWith(":") && next.startsWith("//");
    }
}
