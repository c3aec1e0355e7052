package dev.myllm.tokenizer;

import dev.myllm.tensor.Rng;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The heap merge loop gives the ids of the scanning one (tiktoken's order) on GPT-2's vocabulary. */
class BpeMergeOrderTest {
    static final BpeTokenizer GPT2 = BpeGpt2Test.GPT2;

    static void assertSame(byte[] b) {
        assertThat(GPT2.bpeHeap(b)).as("%d bytes: %s", b.length, new String(b, 0, Math.min(b.length, 80), StandardCharsets.ISO_8859_1))
                .containsExactly(GPT2.bpeScan(b));
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void repeatedLettersWhereOverlappingPairsTie() {
        // "aaaa": every pair is the same, so which occurrence merges first decides the result
        for (String unit : new String[]{"a", "e", "x", " ", "0", "!", "\n", "ab", "aab", "é", "😀"}) {
            for (int len = 1; len <= 600; len++) assertSame(ascii(unit.repeat(len)));
        }
        Rng rng = new Rng(7);
        for (String unit : new String[]{"a", "s", " ", "ab"}) {
            for (int t = 0; t < 12; t++) assertSame(ascii(unit.repeat(600 + rng.nextInt(2401))));
        }
        assertSame(ascii("a".repeat(3000)));
    }

    @Test
    void fewLettersMakeManyEqualPriorities() {
        Rng rng = new Rng(11);
        String[][] alphabets = {{"a", "b"}, {"a", "b", "c"}, {"a", " "}, {"l", "o", "l"}, {"t", "h", "e", " "}, {"an", "na", "a"},
                {"0", "1"}, {"ss", "s", "i", "m", "p"}};
        for (String[] abc : alphabets) {
            for (int t = 0; t < 200; t++) {
                int len = t < 150 ? 1 + rng.nextInt(40) : 1 + rng.nextInt(2000);
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < len; i++) sb.append(abc[rng.nextInt(abc.length)]);
                assertSame(ascii(sb.toString()));
            }
        }
    }

    @Test
    void randomBytes() {
        Rng rng = new Rng(13);
        for (int t = 0; t < 3000; t++) {
            byte[] b = new byte[t < 2800 ? rng.nextInt(64) : rng.nextInt(1500)];
            // half the time printable ASCII, which merges far more than arbitrary bytes
            boolean printable = rng.nextInt(2) == 0;
            for (int i = 0; i < b.length; i++) b[i] = (byte) (printable ? 0x20 + rng.nextInt(0x5F) : rng.nextInt(256));
            assertSame(b);
        }
    }

    @Test
    void realTextWholeAndInWindows() throws IOException {
        byte[] v = ascii(BpeGpt2Test.verdict());
        Rng rng = new Rng(17);
        for (int t = 0; t < 300; t++) {
            int len = rng.nextInt(t < 250 ? 100 : 3000);
            int from = rng.nextInt(v.length - len);
            assertSame(java.util.Arrays.copyOfRange(v, from, from + len));
        }
        // each pre-token of the text, as encode sees them
        String s = BpeGpt2Test.verdict();
        Gpt2PreTokenizer.split(s, 0, s.length(), (a, e) -> assertSame(ascii(s.substring(a, e))));
    }
}
