package dev.myllm.cli;

import dev.myllm.finetune.PromptFormat;
import dev.myllm.server.ChatTemplate;
import java.nio.file.Path;

/**
 * The Ollama Modelfile that {@code export --format gguf --modelfile FILE} writes beside a GGUF
 * file: {@code FROM} the file and, for an instruction-tuned model, its prompt format as Ollama's
 * {@code TEMPLATE} (Ollama does not run the file's Jinja template) with the format's stop strings.
 */
final class OllamaModelfile {
    private OllamaModelfile() {
    }

    /**
     * The Modelfile at {@code modelfile} for {@code gguf}; {@code format} null for a model without one.
     * {@code num_ctx} is the model's context length: Ollama's default is larger, and GPT-2's position
     * embedding ({@code wpe}) has no row for a position past its context.
     */
    static String text(Path modelfile, Path gguf, String name, PromptFormat format, int contextLength) {
        StringBuilder b = new StringBuilder();
        b.append("# ").append(name).append(" for Ollama, written by myllm export")
                .append(format == null ? "" : " (prompt format " + format.id() + ")").append('\n');
        b.append("# make it: ollama create ").append(name).append(" -f ").append(modelfile.getFileName()).append('\n');
        b.append("FROM ").append(quoted(from(modelfile, gguf))).append('\n');
        b.append("PARAMETER num_ctx ").append(contextLength).append('\n');
        if (format != null) {
            b.append("TEMPLATE \"\"\"").append(ChatTemplate.ollama(format)).append("\"\"\"\n");
            for (String stop : ChatTemplate.of(format).stops()) b.append("PARAMETER stop ").append(quoted(stop)).append('\n');
        }
        return b.toString();
    }

    /** The GGUF file as the Modelfile names it: {@code ./NAME} beside it (the pair moves together), else its absolute path. */
    static String from(Path modelfile, Path gguf) {
        Path dir = modelfile.toAbsolutePath().normalize().getParent(), file = gguf.toAbsolutePath().normalize();
        return file.getParent().equals(dir) ? "./" + file.getFileName() : file.toString();
    }

    /** A value in double quotes when it holds a space (Ollama's parser takes it whole either way; quotes strip). */
    private static String quoted(String value) {
        if (value.contains("\"") || value.contains("\n")) throw new IllegalArgumentException("cannot write to a Modelfile: " + value);
        return value.contains(" ") || value.contains("#") || value.startsWith("<") ? "\"" + value + "\"" : value;
    }
}
