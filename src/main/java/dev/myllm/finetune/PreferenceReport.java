package dev.myllm.finetune;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.myllm.train.MetricsLog;
import dev.myllm.util.AtomicFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a preference-tuned policy scores a set of preference records: the {@link DpoObjective#summary}
 * over all pairs and, for synthetic records, per task family (where DPO succeeds and where not).
 */
public record PreferenceReport(List<InstructionExample> records, List<DpoObjective.Pair> pairs, Map<String, Double> overall,
                               Map<String, Map<String, Double>> byFamily) {
    /** The report of {@code pairs}, one per record of {@code records} in the same order. */
    public static PreferenceReport of(List<InstructionExample> records, List<DpoObjective.Pair> pairs) {
        if (records.size() != pairs.size()) throw new IllegalArgumentException(records.size() + " records but " + pairs.size() + " pairs");
        Map<String, List<DpoObjective.Pair>> groups = new LinkedHashMap<>();
        for (String fam : SyntheticTasks.families()) groups.put(fam, new ArrayList<>());
        boolean synthetic = true;
        for (int i = 0; i < records.size() && synthetic; i++) {
            String fam = SyntheticTasks.family(records.get(i));
            if (fam == null) synthetic = false;
            else groups.get(fam).add(pairs.get(i));
        }
        Map<String, Map<String, Double>> by = new LinkedHashMap<>();
        if (synthetic) groups.forEach((fam, ps) -> {
            if (!ps.isEmpty()) by.put(fam, DpoObjective.summary(ps));
        });
        return new PreferenceReport(List.copyOf(records), List.copyOf(pairs), DpoObjective.summary(pairs), by);
    }

    /**
     * Writes the overall and per-family summaries as JSON, then every pair: its record's question,
     * chosen and rejected answers, rewards and margin, so the pairs DPO loses can be read.
     */
    public void write(Path file) {
        write(file, Map.of());
    }

    /** {@link #write(Path)} with {@code model}, facts about the scored model (which step), first when not empty. */
    public void write(Path file, Map<String, Object> model) {
        Map<String, Object> o = new LinkedHashMap<>();
        if (!model.isEmpty()) o.put("model", model);
        o.put("validation", numbers(overall));
        if (!byFamily.isEmpty()) {
            Map<String, Object> by = new LinkedHashMap<>();
            byFamily.forEach((fam, m) -> by.put(fam, numbers(m)));
            o.put("by_family", by);
        }
        List<Map<String, Object>> each = new ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) {
            InstructionExample e = records.get(i);
            DpoObjective.Pair p = pairs.get(i);
            Map<String, Object> m = new LinkedHashMap<>();
            String fam = SyntheticTasks.family(e);
            if (!byFamily.isEmpty() && fam != null) m.put("family", fam);
            m.put("instruction", e.instruction());
            if (!e.input().isEmpty()) m.put("input", e.input());
            m.put("chosen", e.chosen());
            m.put("rejected", e.rejected());
            m.put("chosen_reward", p.chosenReward());
            m.put("rejected_reward", p.rejectedReward());
            m.put("reward_margin", p.chosenReward() - p.rejectedReward());
            m.put("ref_chosen_logp", p.refChosen());
            m.put("ref_rejected_logp", p.refRejected());
            each.add(m);
        }
        o.put("pairs", each);
        AtomicFiles.writeString(file, toJson(o));
    }

    /** A summary with its count of pairs as an integer (the map holds every value as a double). */
    private static Map<String, Number> numbers(Map<String, Double> summary) {
        Map<String, Number> m = new LinkedHashMap<>();
        summary.forEach((k, v) -> m.put(k, MetricsLog.jsonNumber(k, v)));
        return m;
    }

    private static String toJson(Object o) {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
