package dev.myllm.finetune;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
public record PreferenceReport(List<DpoObjective.Pair> pairs, Map<String, Double> overall, Map<String, Map<String, Double>> byFamily) {
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
        return new PreferenceReport(List.copyOf(pairs), DpoObjective.summary(pairs), by);
    }

    /** Writes the overall and per-family summaries as JSON. */
    public void write(Path file) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("validation", overall);
        if (!byFamily.isEmpty()) o.put("by_family", byFamily);
        AtomicFiles.writeString(file, toJson(o));
    }

    private static String toJson(Object o) {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
