package dev.myllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.finetune.InstructionData;
import dev.myllm.finetune.InstructionDatasets;
import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.Judge;
import dev.myllm.finetune.Responder;
import dev.myllm.finetune.SyntheticTasks;
import dev.myllm.util.AtomicFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code myllm eval instruct}: the book's section 7.7–7.8: responses to held-out instructions, exact match, an LLM judge. */
@Command(name = "instruct", mixinStandardHelpOptions = true,
        description = {"Answer a split of instruction data greedily (EOS stops, the book's response extraction) and print exact match "
                + "(synthetic data, or --exact-match).",
                "Writes the entries with model_response (--out); with --judge-url scores each response 0-100 with the book's judge prompt "
                + "(Ollama /api/chat or OpenAI /v1/chat/completions)."})
final class EvalInstructCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Mixin
    WeightDtype weights;

    @Option(names = "--data", required = true, paramLabel = "instructions|preferences|synthetic|FILE",
            description = "Instruction data: the book's, the built-in synthetic tasks, or a JSON/JSONL file.")
    String data;

    @Option(names = "--split", defaultValue = "test", paramLabel = "train|val|test|all",
            description = "Which part of the book's split (85%% train, 10%% test, rest val) to answer: train, val (or validation), test, "
                    + "or all (every record), default ${DEFAULT-VALUE}.")
    String split;

    @Option(names = "--out", paramLabel = "FILE.json", description = "Write the entries with \"model_response\" here.")
    Path out;

    @Option(names = "--limit", paramLabel = "N", description = "Only the first N entries of the split.")
    Integer limit;

    @Mixin
    PromptFormatOption format;

    @Mixin
    TokenizerOption tokenizer;

    @Option(names = "--max-new-tokens", defaultValue = "256", paramLabel = "N", description = "At most N tokens per response, default ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(names = "--exact-match", description = "Print the exact-match rate (always on for synthetic data).")
    boolean exactMatch;

    @Option(names = "--synthetic-size", defaultValue = "" + InstructionDatasets.SYNTHETIC_SIZE, paramLabel = "N",
            description = "Records of the synthetic data before the split, default ${DEFAULT-VALUE}.")
    int syntheticSize;

    @Option(names = "--synthetic-seed", defaultValue = "123", paramLabel = "S", description = "Seed of the synthetic data, default ${DEFAULT-VALUE}.")
    long syntheticSeed;

    @Option(names = "--judge-url", paramLabel = "URL", description = "An Ollama or OpenAI-compatible server, such as http://localhost:11434.")
    String judgeUrl;

    @Option(names = "--judge-model", defaultValue = "llama3", paramLabel = "NAME", description = "The judge's model, default ${DEFAULT-VALUE}.")
    String judgeModel;

    @Option(names = "--judge-timeout", defaultValue = "30", paramLabel = "SECONDS", description = "Per-request timeout, default ${DEFAULT-VALUE}.")
    int judgeTimeout;

    @Option(names = "--seed", defaultValue = ModelOptions.DEFAULT_SEED, paramLabel = "S", description = "Seed of a preset's random weights, default ${DEFAULT-VALUE}.")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        // before the data is read: a typo should not cost a file's reading or the book's download
        if (!split.equals("all") && !InstructionData.Split.PART_NAMES.contains(split)) {
            throw new CliException("--split: unknown split '" + split + "' (known: train, val or validation, test, all)");
        }
        if (maxNewTokens < 1) throw new CliException("--max-new-tokens must be at least 1, got " + maxNewTokens);
        if (limit != null && limit < 1) throw new CliException("--limit must be at least 1, got " + limit);
        if (out != null) OutputPaths.file("--out", out, "responses file"); // before the responses are generated, not after
        if (judgeTimeout < 1) throw new CliException("--judge-timeout must be at least 1 second, got " + judgeTimeout);
        Judge judge = null;
        if (judgeUrl != null) {
            try {
                judge = new Judge(judgeUrl, judgeModel, Duration.ofSeconds(judgeTimeout));
            } catch (IllegalArgumentException e) {
                throw new CliException("--judge-url: " + e.getMessage());
            }
        }
        List<InstructionExample> entries = entries();
        boolean checkable = exactMatch || data.equals("synthetic");
        if (checkable || judge != null) {
            // an empty reference is matched by an empty response (a model tuned on empty outputs scored 100%), and the judge has none to compare
            for (int i = 0; i < entries.size(); i++) {
                if (entries.get(i).output().isBlank()) {
                    throw new CliException("--data " + data + ": entry " + i + " of --split " + split + " has an empty \"output\": "
                            + "no reference to score its response against (--exact-match, --judge-url)");
                }
            }
        }
        Responder r = InstructModels.responder(model, weights, tokenizer, format, maxNewTokens, seed);
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ArrayNode results = json.createArrayNode();
        List<String> responses = new ArrayList<>();
        boolean tty = System.console() != null;
        int matches = 0;
        java.util.Map<String, int[]> byFamily = new java.util.LinkedHashMap<>(); // family -> {matches, entries}
        for (String fam : SyntheticTasks.families()) byFamily.put(fam, new int[2]);
        long t0 = System.nanoTime();
        for (int i = 0; i < entries.size(); i++) {
            InstructionExample e = entries.get(i);
            String resp;
            try {
                resp = r.respond(e);
            } catch (IllegalArgumentException ex) {
                throw new CliException("--data " + data + ": entry " + i + ": " + ex.getMessage());
            }
            responses.add(resp);
            boolean hit = SyntheticTasks.exactMatch(resp, e.output());
            if (hit) matches++;
            String fam = SyntheticTasks.family(e);
            if (fam != null) {
                byFamily.get(fam)[0] += hit ? 1 : 0;
                byFamily.get(fam)[1]++;
            }
            results.add(entry(json, e, resp));
            // redrawn in place on a terminal; in a log, a line every 50 responses and the last
            if (tty) err.printf("\rresponses %d/%d (%.0f s)", i + 1, entries.size(), (System.nanoTime() - t0) / 1e9);
            else if ((i + 1) % 50 == 0 || i + 1 == entries.size()) err.printf("responses %d/%d (%.0f s)%n", i + 1, entries.size(), (System.nanoTime() - t0) / 1e9);
            err.flush();
        }
        if (tty) err.println();
        if (out != null) {
            String text = results.toPrettyString() + "\n";
            AtomicFiles.writeString(out, text);
            o.println("wrote " + entries.size() + " responses to " + out);
        }
        if (checkable) {
            o.printf("exact match: %d of %d (%.1f%%)%n", matches, entries.size(), 100.0 * matches / entries.size());
            if (data.equals("synthetic")) {
                StringBuilder sb = new StringBuilder("by task:");
                byFamily.forEach((fam, c) -> {
                    if (c[1] > 0) sb.append(String.format(java.util.Locale.ROOT, " %s %d/%d", fam, c[0], c[1]));
                });
                o.println(sb);
            }
        }
        if (judge != null) judge(judge, entries, responses, r, o);
        o.flush();
    }

    private List<InstructionExample> entries() {
        List<InstructionExample> all;
        try {
            all = InstructionDatasets.standard().load(data, syntheticSize, syntheticSeed);
        } catch (IllegalArgumentException e) {
            throw new CliException("--data: " + e.getMessage());
        }
        List<InstructionExample> part = split.equals("all") ? all : InstructionData.bookSplit(all).part(split);
        if (part.isEmpty()) throw new CliException("--split " + split + " of " + data + " has no entries");
        return limit == null ? part : part.subList(0, Math.min(limit, part.size()));
    }

    private static ObjectNode entry(ObjectMapper json, InstructionExample e, String response) {
        ObjectNode n = json.createObjectNode();
        n.put("instruction", e.instruction());
        n.put("input", e.input());
        n.put("output", e.output());
        if (e.chosen() != null) n.put("chosen", e.chosen());
        if (e.rejected() != null) n.put("rejected", e.rejected());
        n.put("model_response", response);
        return n;
    }

    /** The book's scoring loop: unparseable replies are reported and skipped. */
    private void judge(Judge judge, List<InstructionExample> entries, List<String> responses, Responder r, PrintWriter o) {
        PrintWriter err = spec.commandLine().getErr();
        List<Integer> scores = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            InstructionExample e = entries.get(i);
            String reply;
            try {
                reply = judge.ask(Judge.prompt(r.format().prompt(e), e.output(), responses.get(i)));
            } catch (IllegalStateException ex) {
                throw new CliException("--judge-url: " + ex.getMessage());
            }
            Integer s = Judge.parseScore(reply);
            if (s == null) {
                err.println("Could not convert score: " + reply.strip().replace('\n', ' '));
                err.flush();
            } else {
                scores.add(s);
            }
        }
        o.printf("Number of scores: %d of %d%n", scores.size(), entries.size());
        if (!scores.isEmpty()) o.printf("Average score: %.2f%n", scores.stream().mapToInt(Integer::intValue).average().orElse(0));
    }
}
