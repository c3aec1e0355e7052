package dev.myllm.finetune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading instruction files (array, JSON lines, chat records), their errors, and the synthetic tasks. */
class InstructionDataTest {
    @Test
    void readsArraysJsonLinesAndChatRecords(@TempDir Path dir) throws Exception {
        Path arr = Files.writeString(dir.resolve("a.json"), "[{\"instruction\": \"Say hi.\", \"input\": \"\", \"output\": \"Hi.\"}]");
        assertThat(InstructionData.read(arr)).containsExactly(InstructionExample.of("Say hi.", "", "Hi."));
        Path jsonl = Files.writeString(dir.resolve("a.jsonl"), "{\"instruction\": \"A\", \"output\": \"1\"}\n\n"
                + "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello\"},"
                + " {\"role\": \"user\", \"content\": \"Name?\"}, {\"role\": \"assistant\", \"content\": \"Bot\"}]}\n");
        List<InstructionExample> r = InstructionData.read(jsonl);
        assertThat(r).hasSize(2);
        assertThat(r.get(0).input()).isEmpty();
        assertThat(r.get(1).instruction()).isEqualTo("Name?");
        assertThat(r.get(1).output()).isEqualTo("Bot");
        assertThat(r.get(1).history()).containsExactly(new InstructionExample.Exchange("Hi", "Hello"));
    }

    @Test
    void badRecordsAreOneLineErrorsNamingTheRecord(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("bad.json"), "[{\"instruction\": \"A\", \"output\": \"1\"}, {\"input\": \"x\", \"output\": \"2\"}]");
        assertThatThrownBy(() -> InstructionData.read(f)).hasMessage(f + ": record 1 has no \"instruction\"");
        // a record without the response to learn trained on an empty one
        Path noOutput = Files.writeString(dir.resolve("no-output.json"), "[{\"instruction\": \"A\", \"output\": \"1\"}, {\"instruction\": \"B\", \"input\": \"x\"}]");
        assertThatThrownBy(() -> InstructionData.read(noOutput)).hasMessage(noOutput + ": record 1 has no \"output\"");
        assertThatThrownBy(() -> InstructionData.parse("{\"instruction\": \"A\", \"output\": null}\n", "n.jsonl"))
                .hasMessage("n.jsonl: record 0 has no \"output\"");
        // preference records need none: finetune dpo reads chosen and rejected
        assertThat(InstructionData.parse("[{\"instruction\": \"A\", \"chosen\": \"1\", \"rejected\": \"2\"}]", "p.json").getFirst().chosen()).isEqualTo("1");
        Path j = Files.writeString(dir.resolve("bad.jsonl"), "{\"instruction\": \"A\", \"output\": \"1\"}\n{oops\n");
        assertThatThrownBy(() -> InstructionData.read(j)).hasMessageStartingWith(j + ": line 2 is not JSON");
        // an array cut short said where it started, "(start marker at [Source: REDACTED (`StreamReadFeature...` disabled); line: 1, column: 2])"
        Path cut = Files.writeString(dir.resolve("cut.json"), "[{\"instruction\": \"A\"");
        assertThatThrownBy(() -> InstructionData.read(cut)).hasMessage(cut + ": not a JSON array: Unexpected end-of-input: expected close marker for Object");
        Path chat = Files.writeString(dir.resolve("c.json"), "[{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}]");
        assertThatThrownBy(() -> InstructionData.read(chat)).hasMessage(chat + ": record 0: the last message must be the assistant's");
        assertThatThrownBy(() -> InstructionData.read(dir.resolve("none.json"))).hasMessageEndingWith("none.json: no such file");
        List<InstructionExample> prefs = InstructionData.parse("[{\"instruction\": \"A\", \"output\": \"1\", \"chosen\": \"1\"}]", "p.json");
        assertThatThrownBy(() -> InstructionData.requirePreferences(prefs, "p.json")).hasMessage("p.json: record 0 has no \"rejected\"");
        assertThatThrownBy(() -> InstructionData.requirePreferences(List.of(InstructionExample.of("A", "", "1")), "q.json"))
                .hasMessage("q.json: record 0 has no \"chosen\"");
    }

    @Test
    void syntheticTasksAreSeededDistinctAndCheckable() {
        List<InstructionExample> a = SyntheticTasks.generate(3000, 7);
        assertThat(a).isEqualTo(SyntheticTasks.generate(3000, 7));
        assertThat(a).isNotEqualTo(SyntheticTasks.generate(3000, 8));
        Set<String> questions = new HashSet<>();
        for (InstructionExample e : a) {
            assertThat(questions.add(e.instruction() + "\n" + e.input())).isTrue();
            assertThat(e.chosen()).isEqualTo(e.output());
            assertThat(SyntheticTasks.exactMatch(e.rejected(), e.output())).as(e.toString()).isFalse();
            assertThat(e.output().split(" ").length).isLessThanOrEqualTo(8);
        }
        InstructionData.Split s = InstructionData.bookSplit(a);
        assertThat(s.train()).hasSize(2550);
        assertThat(s.test()).hasSize(300);
        assertThat(s.val()).hasSize(150);
        // every family shows up in the test split
        assertThat(s.test().stream().map(InstructionExample::instruction).anyMatch(q -> q.contains("plural"))).isTrue();
        assertThat(s.test().stream().map(InstructionExample::instruction).anyMatch(q -> q.contains("capital"))).isTrue();
        assertThat(SyntheticTasks.plural("lady")).isEqualTo("ladies");
        assertThat(SyntheticTasks.plural("church")).isEqualTo("churches");
        assertThat(SyntheticTasks.past("marry")).isEqualTo("married");
        assertThat(SyntheticTasks.past("play")).isEqualTo("played");
        assertThat(SyntheticTasks.past("smile")).isEqualTo("smiled");
        assertThat(SyntheticTasks.exactMatch(" Paris. ", "paris")).isTrue();
        assertThat(SyntheticTasks.exactMatch("Paris is", "Paris")).isFalse();
        assertThatThrownBy(() -> SyntheticTasks.generate(SyntheticTasks.MAX_SIZE + 1, 1)).hasMessageContaining("between 1 and 100000");
    }

    @Test
    void everyFamilyIsRecognizedAndEveryTestAnswerCanBeLearnedFromTraining() {
        InstructionData.Split s = InstructionData.bookSplit(SyntheticTasks.generate(InstructionDatasets.SYNTHETIC_SIZE, 123));
        Set<String> seen = new HashSet<>();
        for (InstructionExample e : SyntheticTasks.generate(2000, 5)) seen.add(SyntheticTasks.family(e));
        assertThat(seen).containsExactlyInAnyOrderElementsOf(SyntheticTasks.families());
        assertThat(SyntheticTasks.family(InstructionExample.of("Say hi.", "", "Hi."))).isNull();
        // a fact that only recall gives (a capital) is taught by the training part in another wording; plurals, past
        // tenses and sums follow rules that the training part shows on other words and numbers
        Set<String> taught = new HashSet<>();
        for (InstructionExample e : s.train()) taught.add(SyntheticTasks.family(e) + ":" + subject(e));
        for (InstructionExample e : s.test()) {
            String f = SyntheticTasks.family(e);
            if (f.equals("capital")) assertThat(taught).as(e.toString()).contains(f + ":" + subject(e));
        }
        // numbers in words are made of parts: every number word of a test question or answer occurs in training ones
        Set<String> words = new HashSet<>();
        for (InstructionExample e : s.train()) {
            if (!"spell".equals(SyntheticTasks.family(e))) continue;
            words.addAll(List.of((e.instruction() + " " + e.output()).replace('.', ' ').split("[ -]+")));
        }
        for (InstructionExample e : s.test()) {
            if (!"spell".equals(SyntheticTasks.family(e))) continue;
            for (String w : (e.instruction() + " " + e.output()).replace('.', ' ').split("[ -]+")) {
                if (!w.matches("[0-9]+")) assertThat(words).as(e.toString()).contains(w);
            }
        }
        assertThat(SyntheticTasks.inWords(42)).isEqualTo("forty-two");
        assertThat(SyntheticTasks.inWords(17)).isEqualTo("seventeen");
        assertThat(SyntheticTasks.inWords(90)).isEqualTo("ninety");
    }

    /** What a recall question asks about, whatever its wording: the country, the word, or the two numbers. */
    private static String subject(InstructionExample e) {
        String q = e.instruction().replaceAll("[?.]$", "");
        return switch (SyntheticTasks.family(e)) {
            case "capital", "plural", "past" -> q.substring(q.lastIndexOf(' ') + 1);
            case "add", "subtract" -> {
                List<String> n = new java.util.ArrayList<>(List.of(q.replaceAll("[^0-9]+", " ").strip().split(" ")));
                if (q.startsWith("Subtract ")) java.util.Collections.reverse(n); // "subtract b from a" asks a − b
                yield String.join(",", n);
            }
            default -> q;
        };
    }
}
