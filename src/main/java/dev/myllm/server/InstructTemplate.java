package dev.myllm.server;

import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.PromptFormat;
import java.util.ArrayList;
import java.util.List;

/**
 * Chat through the prompt format an instruction-tuned model was trained with (Alpaca or Phi-3,
 * saved beside its weights): the last user message is the instruction (after any system
 * message), earlier user/assistant pairs are the history when the format has turns, and the
 * answer starts after the format's response prefix.
 */
record InstructTemplate(PromptFormat format) implements ChatTemplate {
    @Override
    public String name() {
        return format.id();
    }

    @Override
    public String render(List<Message> messages) {
        StringBuilder system = new StringBuilder();
        List<InstructionExample.Exchange> history = new ArrayList<>();
        String pendingUser = null, last = "";
        for (Message m : messages) {
            switch (m.role()) {
                case "system", "developer" -> system.append(m.content()).append("\n\n");
                case "assistant" -> {
                    if (pendingUser != null) history.add(new InstructionExample.Exchange(pendingUser, m.content()));
                    pendingUser = null;
                }
                default -> {
                    if (pendingUser != null) history.add(new InstructionExample.Exchange(pendingUser, ""));
                    pendingUser = m.content();
                }
            }
        }
        if (pendingUser != null) last = pendingUser;
        InstructionExample e = new InstructionExample(system + last, "", "", null, null,
                format.hasTurns() ? history : List.of());
        return format.prompt(e) + format.responsePrefix();
    }

    /**
     * {@link #render} in Jinja: the same walk over the messages (system text joined first, the
     * last user message the instruction, earlier pairs the history of a format with turns).
     * No {@code <|user|>} or {@code <|assistant|>} appears literally (each is joined from two
     * strings): llama.cpp's non-Jinja path guesses a built-in format from such markers (these two
     * pick GLM-Edge's, a different prompt), and none of its built-ins is ours, so it should find
     * nothing and say "try using --jinja".
     */
    static String jinja(PromptFormat format) {
        String walk = """
                {%- set ns = namespace(system='', pending=none, history='') -%}
                {%- set user = '<|' + 'user|>\\n' -%}{%- set assistant = '\\n<|' + 'assistant|>:\\n' -%}
                {%- for m in messages -%}
                {%- if m['role'] == 'system' or m['role'] == 'developer' -%}{%- set ns.system = ns.system + m['content'] + '\\n\\n' -%}
                {%- elif m['role'] == 'assistant' -%}
                {%- if ns.pending is not none -%}{%- set ns.history = ns.history + user + ns.pending + assistant + m['content'] + '\\n' -%}{%- endif -%}
                {%- set ns.pending = none -%}
                {%- else -%}
                {%- if ns.pending is not none -%}{%- set ns.history = ns.history + user + ns.pending + assistant + '\\n' -%}{%- endif -%}
                {%- set ns.pending = m['content'] -%}
                {%- endif -%}
                {%- endfor -%}
                """;
        String head = head(format);
        return walk + (format.hasTurns() ? "{{ ns.history }}" : "") + text(head)
                + "{{ ns.system }}{% if ns.pending is not none %}{{ ns.pending }}{% endif %}"
                + "{% if add_generation_prompt %}" + text(format.responsePrefix()) + "{% endif %}";
    }

    /**
     * {@link #render} as an Ollama template (Go's {@code text/template} over {@code .Messages}, for a
     * Modelfile's {@code TEMPLATE}): the same walk as {@link #jinja}, in Go's variables and {@code
     * printf}. Ollama joins consecutive messages of one role with a blank line before any template sees
     * them, so for such a chat the prompt is {@link #render}'s of the joined messages.
     */
    static String ollama(PromptFormat format) {
        String head = head(format);
        String t = """
                {{- $system := "" }}{{ $pending := "" }}{{ $open := false }}{{ $history := "" }}
                {{- range .Messages }}
                {{- if or (eq .Role "system") (eq .Role "developer") }}{{ $system = printf "%s%s\\n\\n" $system .Content }}
                {{- else if eq .Role "assistant" }}
                {{- if $open }}{{ $history = printf "%s<|user|>\\n%s\\n<|assistant|>:\\n%s\\n" $history $pending .Content }}{{ end }}
                {{- $open = false }}
                {{- else }}
                {{- if $open }}{{ $history = printf "%s<|user|>\\n%s\\n<|assistant|>:\\n\\n" $history $pending }}{{ end }}
                {{- $open = true }}{{ $pending = .Content }}
                {{- end }}
                {{- end }}
                """ + (format.hasTurns() ? "{{- $history }}" : "{{- \"\" }}") + goText(head)
                + "{{ $system }}{{ if $open }}{{ $pending }}{{ end }}" + goText(format.responsePrefix());
        if (t.contains("\"\"\"")) throw new IllegalStateException("a Modelfile cannot hold three quotes in a row: " + t);
        return t;
    }

    /**
     * The format's own text before an empty instruction (Alpaca's preamble, Phi-3's {@code <|user|>}
     * line), what both templates write before the system text and the instruction; their history
     * is written out as Phi-3's, so a format with turns must have Phi-3's response prefix.
     */
    private static String head(PromptFormat format) {
        if (format.hasTurns() && !format.responsePrefix().equals("\n<|assistant|>:\n")) {
            throw new IllegalStateException("the templates' history is Phi-3's; " + format.id() + " needs its own");
        }
        return format.prompt(new InstructionExample("", "", "", null, null, List.of()));
    }

    /** Literal text as a Go string constant ({@code {{ "..." }}}, newlines as {@code \n}): no whitespace for the template to trim. */
    private static String goText(String s) {
        StringBuilder b = new StringBuilder("{{ \"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '\n' -> b.append("\\n");
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> b.append(c);
            }
        }
        return b.append("\" }}").toString();
    }

    /**
     * Literal template text; each newline as an expression, which no trim_blocks or lstrip_blocks
     * setting removes, and each {@code <|} as one, so that no marker appears whole (see {@link #jinja}).
     */
    private static String text(String s) {
        if (s.contains("{") || s.contains("}")) throw new IllegalArgumentException("braces in template text: " + s);
        return s.replace("\n", "{{ '\\n' }}").replace("<|", "{{ '<|' }}");
    }

    @Override
    public List<String> stops() {
        return format == PromptFormat.PHI3 ? List.of("<|user|>") : List.of("### Instruction:");
    }
}
