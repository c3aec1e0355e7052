package dev.myllm.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BpeTrainerTest {
    @Test
    void booksCheckOnTheVerdict(@TempDir Path dir) throws Exception {
        TrainedBpe t = new BpeTrainer().train(List.of(BpeGpt2Test.verdict()), 1000, List.of("<|endoftext|>"), null);
        assertThat(t.mergeCount()).isEqualTo(742);
        assertThat(t.vocabSize()).isEqualTo(1000);
        assertThat(t.eotId()).isEqualTo(257);
        String s = "Jack embraced beauty through art and life.";
        int[] ids = t.encode(s);
        assertThat(ids).containsExactly(74, 361, 310, 109, 98, 420, 397, 100, 300, 428, 116, 121, 519, 699, 299, 808, 534);
        assertThat(t.decode(ids)).isEqualTo(s);
        Path f = dir.resolve("v.json");
        t.save(f);
        TrainedBpe back = TrainedBpe.load(f);
        assertThat(back.encode(s)).containsExactly(ids);
        assertThat(back.decode(back.encode(BpeGpt2Test.verdict()))).isEqualTo(BpeGpt2Test.verdict());
    }

    @Test
    void aMalformedVocabularyFileIsAOneLineErrorNamingIt(@TempDir Path dir) throws Exception {
        // before: a pair with a text id read as byte 0, a short pair failed with a NullPointerException, and an unknown id
        // or an empty special (which matched at every character: encoding never ended) went without the file's name
        java.util.Map<String, String> bad = java.util.Map.of(
                "{\"type\": \"myllm-bpe\", \"specials\": {}, \"merges\": [[104, \"x\"]]}", "merge 1 is not a pair of ids",
                "{\"type\": \"myllm-bpe\", \"specials\": {}, \"merges\": [[104]]}", "merge 1 is not a pair of ids",
                "{\"type\": \"myllm-bpe\", \"specials\": {}, \"merges\": [[104, 101], 7]}", "merge 2 is not a pair of ids",
                "{\"type\": \"myllm-bpe\", \"specials\": {}, \"merges\": {\"a\": 1}}", "\"merges\" is not a list of id pairs",
                "{\"type\": \"myllm-bpe\", \"specials\": {}, \"merges\": [[104, 9999]]}", "merge 1 uses an unknown id (104, 9999)",
                "{\"type\": \"myllm-bpe\", \"specials\": {\"\": 257}, \"merges\": []}", "a special token is empty");
        int n = 0;
        for (var b : bad.entrySet()) {
            Path f = dir.resolve("v" + n++ + ".json");
            java.nio.file.Files.writeString(f, b.getKey());
            assertThatThrownBy(() -> Tokenizers.load(f.toString())).as(b.getKey()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(f + ": " + b.getValue());
        }
        // no merges at all: the 256 bytes and the space symbol
        Path bytes = dir.resolve("bytes.json");
        java.nio.file.Files.writeString(bytes, "{\"type\": \"myllm-bpe\"}");
        assertThat(Tokenizers.load(bytes.toString()).vocabSize()).isEqualTo(257);
    }

    @Test
    void overlappingRunsMergeLeftToRightLikeTheBook() {
        // "aaaaa": counts (a,a)=4 → merge to [z z a]; then (z,z)=1 and (z,a)=1 tie: (z,z) is seen first.
        TrainedBpe t = new BpeTrainer().train(List.of("aaaaa"), 300, List.of(), null);
        assertThat(t.mergeCount()).isEqualTo(3); // then no pair is left: training stops early
        assertThat(t.decodeBytes(new int[]{257})).containsExactly('a', 'a');
        assertThat(new String(t.decodeBytes(new int[]{258}))).isEqualTo("aaaa");
        assertThat(new String(t.decodeBytes(new int[]{259}))).isEqualTo("aaaaa");
        assertThat(t.encode("aaaaa aa")).containsExactly(259, 256, 257);
    }

    /** The book's algorithm written plainly (recount every pair each merge), with the Ġ and line-break rules. */
    static List<int[]> naiveMerges(String text, int merges) {
        List<Integer> ids = new java.util.ArrayList<>();
        byte[] b = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i++) {
            if (b[i] == ' ' && i == 0) continue;
            ids.add(b[i] == ' ' ? 256 : b[i] & 0xFF);
        }
        java.util.Set<Integer> spaced = new java.util.HashSet<>(List.of(256));
        List<int[]> out = new java.util.ArrayList<>();
        for (int z = 257; z < 257 + merges; z++) {
            java.util.LinkedHashMap<Long, Integer> counts = new java.util.LinkedHashMap<>();
            for (int i = 0; i + 1 < ids.size(); i++) {
                int a = ids.get(i), c = ids.get(i + 1);
                if (spaced.contains(c) || a == '\n' || c == '\n') continue;
                counts.merge(((long) a << 32) | c, 1, Integer::sum);
            }
            if (counts.isEmpty()) break;
            long best = -1;
            int bestCount = 0;
            for (var e : counts.entrySet()) if (e.getValue() > bestCount) {
                best = e.getKey();
                bestCount = e.getValue();
            }
            int a = (int) (best >>> 32), c = (int) best;
            out.add(new int[]{a, c});
            if (spaced.contains(a)) spaced.add(z);
            List<Integer> next = new java.util.ArrayList<>();
            for (int i = 0; i < ids.size(); i++) {
                if (i + 1 < ids.size() && ids.get(i) == a && ids.get(i + 1) == c) {
                    next.add(z);
                    i++;
                } else {
                    next.add(ids.get(i));
                }
            }
            ids = next;
        }
        return out;
    }

    @Test
    void incrementalCountsMatchRecountingOnRandomText() {
        dev.myllm.tensor.Rng rng = new dev.myllm.tensor.Rng(42);
        String alphabet = "aab  b\nc";
        for (int trial = 0; trial < 30; trial++) {
            StringBuilder sb = new StringBuilder();
            int len = 20 + rng.nextInt(300);
            for (int i = 0; i < len; i++) sb.append(alphabet.charAt(rng.nextInt(alphabet.length())));
            String text = sb.toString();
            List<int[]> expect = naiveMerges(text, 60);
            TrainedBpe t = new BpeTrainer().train(List.of(text), 257 + 60, List.of(), null);
            assertThat(t.mergeCount()).as(text).isEqualTo(expect.size());
            for (int i = 0; i < expect.size(); i++) {
                assertThat(t.merge(i)).as("merge %d of %s", i, text).containsExactly(expect.get(i));
            }
        }
    }
}
