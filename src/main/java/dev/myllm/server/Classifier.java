package dev.myllm.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.finetune.GPTClassifier;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.ArgMax;
import dev.myllm.tensor.GradMode;
import dev.myllm.tokenizer.Specials;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * {@code POST /v1/classify} (our extension) for a classifier directory: {@code input} (a text or a
 * list of up to 32) → per text the most likely label and every label's probability, each text cut and padded
 * to the classifier's training length as {@code myllm classify} does.
 */
final class Classifier {
    static final int MAX_INPUTS = 32;

    private final ServedModel served;
    private final GPTClassifier model;

    Classifier(ServedModel served) {
        this.served = served;
        this.model = served.classifier();
        model.eval();
    }

    /** The answer, and the prompt tokens it read. */
    record Answer(ObjectNode json, int tokens) {
    }

    Answer classify(JsonNode body) {
        Fields f = new Fields(body);
        String name = f.string("model", served.name());
        if (!name.equals(served.name())) throw ApiError.notFound("model", "model_not_found", "The model '" + Fields.shown(name) + "' does not exist");
        JsonNode in = f.get("input");
        List<String> texts = new ArrayList<>();
        if (in != null && in.isTextual()) {
            texts.add(in.asText());
        } else if (in != null && in.isArray() && !in.isEmpty()) {
            for (JsonNode t : in) {
                if (!t.isTextual()) throw ApiError.badField("input", "input must be a string or a list of strings");
                texts.add(t.asText());
            }
        } else {
            throw ApiError.badField("input", "input is required: a string or a non-empty list of strings");
        }
        if (texts.size() > MAX_INPUTS) throw ApiError.badField("input", "input holds at most " + MAX_INPUTS + " texts, got " + texts.size());
        int ctx = served.contextLength(), total = 0;
        // texts are cut and padded to the length the classifier was trained at, as in training, myllm classify and
        // TextClassifier: with the book's token rule (the last position) a padded text is read at a pad token
        boolean trainedLength = model.maxLength() > 0;
        List<int[]> ids = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            int[] t = served.tokenizer().encode(texts.get(i), Specials.TEXT);
            String shown = in.isTextual() ? "input" : "input[" + i + "]"; // as the request sent it, and as /v1/embeddings names it
            if (t.length == 0) throw ApiError.badField("input", shown + " is an empty string");
            if (!trainedLength && t.length > ctx) throw ApiError.badField("input", shown + " has " + t.length + " tokens; the context length is " + ctx);
            int[] fitted = model.fit(t);
            total += Math.min(t.length, fitted.length);
            ids.add(fitted);
        }
        ObjectNode o = Answers.JSON.createObjectNode();
        o.put("id", "clf-" + UUID.randomUUID().toString().replace("-", "")).put("object", "classification")
                .put("created", System.currentTimeMillis() / 1000).put("model", served.name());
        ArrayNode data = o.putArray("data");
        List<String> labels = model.labels();
        for (int i = 0; i < ids.size(); i++) {
            float[] logits;
            // one text at a time, one request at a time: the model's buffers are not shared between threads
            synchronized (model) {
                try (GradMode g = GradMode.noGrad(); Arena a = Arena.open()) {
                    logits = model.logits(ids.get(i), 1, ids.get(i).length).toArray();
                }
            }
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (float x : logits) max = Math.max(max, x);
            for (float x : logits) z += Math.exp(x - max);
            int best = ArgMax.of(logits, 0, logits.length);
            ObjectNode d = data.addObject();
            d.put("index", i).put("label", labels.get(best));
            ObjectNode p = d.putObject("probabilities");
            for (int c = 0; c < logits.length; c++) p.put(labels.get(c), Math.exp(logits[c] - max) / z);
        }
        o.putObject("usage").put("prompt_tokens", total).put("total_tokens", total);
        return new Answer(o, total);
    }
}
