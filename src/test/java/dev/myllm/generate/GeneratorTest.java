package dev.myllm.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.GradMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GeneratorTest {
    static final GPTConfig TEST = new GPTConfig(67, 16, 32, 4, 2, 0.1f, true, true, 1e-5f);
    /** Larger weights than GPT-2's init so the tiny model's predictions are not nearly uniform. */
    static final GPTModel MODEL = model();

    static GPTModel model() {
        GPTModel m = new GPTModel(TEST, 11);
        for (var t : m.parameters()) for (int i = 0; i < t.size(); i++) t.data()[i] *= t.rank() == 2 ? 15f : 1f;
        return m;
    }

    /** Tokens 0..25 are letters, 26..35 digits, the rest spaces. */
    static final TokenDecoder LETTERS = id -> new byte[]{(byte) (id < 26 ? 'a' + id : id < 36 ? '0' + id - 26 : ' ')};

    static final int[] PROMPT = {3, 1, 4, 1, 5};

    @Test
    void greedyTakesTheArgmaxOfTheFullForwardEachStep() {
        int[] got = new Generator(MODEL, null).generate(PROMPT, GenerationConfig.greedy(6).withCache(false)).tokens();
        // the book's generate_text_simple, written out
        List<Integer> seq = new ArrayList<>(List.of(3, 1, 4, 1, 5));
        MODEL.eval();
        try (var g = GradMode.noGrad()) {
            for (int step = 0; step < 6; step++) {
                int[] ids = seq.stream().mapToInt(Integer::intValue).toArray();
                float[] logits = MODEL.forward(ids, 1, ids.length).toArray();
                seq.add(dev.myllm.tensor.ArgMax.of(logits, (ids.length - 1) * 67, 67));
            }
        }
        assertThat(got).containsExactly(seq.subList(5, 11).stream().mapToInt(Integer::intValue).toArray());
        assertThat(MODEL.isTraining()).isFalse();
    }

    @Test
    void cachedAndUncachedGiveTheSameTokensEvenPastTheContextLength() {
        Generator gen = new Generator(MODEL, null);
        // 5 prompt tokens + 20 new > context 16: the window slides for the last steps
        GenerationConfig greedy = GenerationConfig.greedy(20);
        Generator.Result cached = gen.generate(PROMPT, greedy);
        assertThat(cached.tokens()).hasSize(20);
        assertThat(cached.tokens()).containsExactly(gen.generate(PROMPT, greedy.withCache(false)).tokens());
        // a short request gets a cache of prompt + new tokens only (5 + 6 < 16)
        assertThat(gen.generate(PROMPT, GenerationConfig.greedy(6)).tokens())
                .containsExactly(java.util.Arrays.copyOf(cached.tokens(), 6));
        GenerationConfig sampled = greedy.withSampling(1.0f, 20, 0.95f, 7);
        int[] a = gen.generate(PROMPT, sampled).tokens();
        assertThat(a).containsExactly(gen.generate(PROMPT, sampled.withCache(false)).tokens());
        assertThat(a).isNotEqualTo(cached.tokens()); // sampling really sampled
        assertThat(gen.generate(PROMPT, sampled).tokens()).containsExactly(a); // same seed, same tokens
        assertThat(gen.generate(PROMPT, sampled.withSampling(1.0f, 20, 0.95f, 8)).tokens()).isNotEqualTo(a);
    }

    @Test
    void generationWithoutTheCacheCollectsItsGarbageEverySoManyBytesAndWithTheCacheNever() {
        // 50 new tokens with a context of 64: every step a new length, each step's buffers new arrays
        GPTModel m = new GPTModel(new GPTConfig(67, 64, 32, 4, 2, 0.1f, true, true, 1e-5f), 11);
        Generator gen = new Generator(m, null);
        int[] collections = {0};
        gen.collector = () -> collections[0]++;
        gen.collectEvery = 256 << 10;
        long floats0 = Arena.allocatedFloats();
        int[] uncached = gen.generate(PROMPT, GenerationConfig.greedy(50).withCache(false)).tokens();
        long bytes = 4 * (Arena.allocatedFloats() - floats0);
        // a collection each time the new buffers since the last one reach 256 KB (a step's are less)
        assertThat(bytes).isGreaterThan(8 * gen.collectEvery);
        assertThat((long) collections[0]).isBetween(bytes / gen.collectEvery / 2, bytes / gen.collectEvery);
        // with the cache the same tokens, and nothing to collect: decoding reuses its buffers
        collections[0] = 0;
        assertThat(gen.generate(PROMPT, GenerationConfig.greedy(50)).tokens()).containsExactly(uncached);
        assertThat(collections[0]).isZero();
    }

    @Test
    void aPromptStartingAsTheLastCallsReusesItsPrefillAndGivesTheSameTokens() {
        GPTModel m = new GPTModel(new GPTConfig(67, 64, 32, 4, 2, 0.1f, true, true, 1e-5f), 11);
        for (var t : m.parameters()) for (int i = 0; i < t.size(); i++) t.data()[i] *= t.rank() == 2 ? 15f : 1f;
        Generator reusing = new Generator(m, null, true), fresh = new Generator(m, null);
        GenerationConfig sampled = GenerationConfig.greedy(10).withSampling(1.0f, 0, 1.0f, 5);
        int[] first = {3, 1, 4, 1, 5, 9, 2, 6};
        int[] answer = reusing.generate(first, sampled).tokens();
        assertThat(reusing.lastReused()).isZero();
        // a chat's next turn: the first prompt, its answer and a new question
        int[] next = java.util.stream.IntStream.concat(java.util.stream.IntStream.concat(java.util.Arrays.stream(first),
                java.util.Arrays.stream(answer)), java.util.stream.IntStream.of(7, 7, 8)).toArray();
        for (GenerationConfig c : List.of(sampled, GenerationConfig.greedy(12))) {
            int[] want = fresh.generate(next, c).tokens();
            reusing.generate(first, c);
            assertThat(reusing.generate(next, c).tokens()).as("%s", c).containsExactly(want);
            // the first prompt's positions only: the answer's came from decode steps
            assertThat(reusing.lastReused()).isEqualTo(first.length);
        }
        // the same prompt again: all but its last position; the answers as before
        int[] again = reusing.generate(next, sampled).tokens();
        assertThat(reusing.lastReused()).isEqualTo(next.length - 1);
        assertThat(again).containsExactly(fresh.generate(next, sampled).tokens());
        // a larger request than the kept cache holds: the shared positions copied into a new one
        int[] longer = java.util.Arrays.copyOf(next, 40);
        for (int i = next.length; i < 40; i++) longer[i] = i % 67;
        assertThat(reusing.generate(longer, GenerationConfig.greedy(20)).tokens()).containsExactly(fresh.generate(longer, GenerationConfig.greedy(20)).tokens());
        assertThat(reusing.lastReused()).isEqualTo(next.length);
        // past the context the window slides and is prefilled again: still the same tokens, and what the
        // slid cache holds is offered to the next call only for the prompt it holds
        assertThat(reusing.generate(longer, GenerationConfig.greedy(40)).tokens()).containsExactly(fresh.generate(longer, GenerationConfig.greedy(40)).tokens());
        assertThat(reusing.generate(longer, GenerationConfig.greedy(5)).tokens()).containsExactly(fresh.generate(longer, GenerationConfig.greedy(5)).tokens());
        assertThat(reusing.lastReused()).isZero();
        // a generator that does not reuse (the default, as benchmarks want) prefills every call whole
        fresh.generate(next, sampled);
        assertThat(fresh.lastReused()).isZero();
    }

    @Test
    void aPromptLongerThanTheContextIsCroppedToItsEnd() {
        int[] longPrompt = new int[40];
        for (int i = 0; i < 40; i++) longPrompt[i] = (i * 7) % 67;
        int[] tail = java.util.Arrays.copyOfRange(longPrompt, 24, 40);
        Generator gen = new Generator(MODEL, null);
        assertThat(gen.generate(longPrompt, GenerationConfig.greedy(4)).tokens())
                .containsExactly(gen.generate(tail, GenerationConfig.greedy(4)).tokens());
    }

    @Test
    void stopsAtTheEndOfTextToken() {
        Generator gen = new Generator(MODEL, null);
        int[] free = gen.generate(PROMPT, GenerationConfig.greedy(12)).tokens();
        int eos = free[4];
        int first = 0;
        while (free[first] != eos) first++;
        Generator.Result r = gen.generate(PROMPT, GenerationConfig.greedy(12).withEos(eos));
        assertThat(r.stopReason()).isEqualTo(Generator.StopReason.EOS);
        assertThat(r.tokens()).containsExactly(java.util.Arrays.copyOf(free, first));
    }

    @Test
    void stopStringsEndTheTextAndAreNeverStreamed() {
        Generator gen = new Generator(MODEL, LETTERS);
        String free = gen.generate(PROMPT, GenerationConfig.greedy(12)).text();
        assertThat(free).hasSize(12);
        String stop = free.substring(5, 7);
        int at = free.indexOf(stop);
        List<String> pieces = new ArrayList<>();
        Generator.Result r = gen.generate(PROMPT, GenerationConfig.greedy(12).withStopStrings(List.of(stop, "never")), pieces::add);
        assertThat(r.stopReason()).isEqualTo(Generator.StopReason.STOP_STRING);
        assertThat(r.text()).isEqualTo(free.substring(0, at));
        assertThat(String.join("", pieces)).isEqualTo(r.text());
        assertThat(r.tokens()).hasSize(at + stop.length()); // the tokens up to the one completing the stop string
    }

    @Test
    void streamingNeverSplitsAUtf8Character() {
        // every token is one byte of "é" or "€": C3 A9 or E2 82 AC, and a few ASCII letters
        byte[][] table = new byte[67][];
        for (int i = 0; i < 67; i++) {
            table[i] = switch (i % 4) {
                case 0 -> new byte[]{(byte) 0xC3};
                case 1 -> new byte[]{(byte) 0xA9, (byte) 0xE2};
                case 2 -> new byte[]{(byte) 0x82, (byte) 0xAC};
                default -> new byte[]{'x'};
            };
        }
        Generator gen = new Generator(MODEL, id -> table[id]);
        List<String> pieces = new ArrayList<>();
        Generator.Result r = gen.generate(PROMPT, GenerationConfig.greedy(16).withSampling(1f, 0, 1f, 3), pieces::add);
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        for (int id : r.tokens()) all.writeBytes(table[id]);
        assertThat(r.text()).isEqualTo(all.toString(StandardCharsets.UTF_8));
        // a character cut between two pieces would decode as U+FFFD on each side instead of whole
        assertThat(String.join("", pieces)).isEqualTo(r.text());
        assertThat(r.text()).containsAnyOf("é", "€");
        assertThat(pieces.size()).isGreaterThan(1);
    }

    @Test
    void badArgumentsAreRefused() {
        Generator gen = new Generator(MODEL, null);
        assertThatThrownBy(() -> gen.generate(new int[0], GenerationConfig.greedy(3))).hasMessageContaining("prompt is empty");
        assertThatThrownBy(() -> GenerationConfig.greedy(3).withSampling(-1, 0, 1, 0)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> GenerationConfig.greedy(3).withSampling(1, 0, 0, 0)).hasMessageContaining("topP");
        assertThatThrownBy(() -> gen.generate(PROMPT, GenerationConfig.greedy(3).withStopStrings(List.of("x"))))
                .hasMessageContaining("decoder");
    }
}
