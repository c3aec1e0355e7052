package dev.myllm.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.myllm.tensor.Rng;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BpeGpt2Test {
    static final Encoding JT = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
    static final BpeTokenizer GPT2 = BpeTokenizer.gpt2();

    static String verdict() throws IOException {
        try (InputStream in = BpeGpt2Test.class.getResourceAsStream("/dev/myllm/data/the-verdict.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static void assertSameAsJtokkit(String text) {
        int[] ours = GPT2.encode(text, Specials.TEXT);
        int[] theirs = JT.encodeOrdinary(text).toArray();
        assertThat(ours).as("ids of %s", text).containsExactly(theirs);
        assertThat(GPT2.decode(ours)).isEqualTo(text);
    }

    @Test
    void booksExampleWithEndOfText() {
        String text = "Hello, do you like tea? <|endoftext|> In the sunlit terracesof someunknownPlace.";
        assertThat(GPT2.encode(text, Specials.ALLOW)).containsExactly(
                15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114, 1659, 617, 34680, 27271, 13);
        assertThat(GPT2.decode(GPT2.encode(text, Specials.ALLOW))).isEqualTo(text);
        assertThat(GPT2.vocabSize()).isEqualTo(50257);
        assertThat(GPT2.eotId()).isEqualTo(50256);
    }

    @Test
    void specialsAreAnErrorByDefaultAndTextWhenAsked() {
        assertThatThrownBy(() -> GPT2.encode("a <|endoftext|> b"))
                .hasMessageContaining("<|endoftext|>").hasMessageContaining("character 2");
        assertThat(GPT2.encode("<|endoftext|>", Specials.TEXT)).containsExactly(27, 91, 437, 1659, 5239, 91, 29);
    }

    @Test
    void verdictHas5145Tokens() throws IOException {
        String v = verdict();
        assertThat(GPT2.encode(v, Specials.ERROR)).hasSize(5145);
        assertSameAsJtokkit(v);
    }

    @Test
    void variedTextMatchesJtokkit() {
        String[] samples = {
                "", " ", "  ", "\n", "\r\n", "a\r\n\r\nb", "Hello   world  ", "tab\there\t\t", "I'm you're we've they'll he'd it's",
                "'s 'S 'll 'LL x's''t ' t", "1234567 3.14159 -42 1e9 ½ ² ٣", "日本語のテキスト、句読点。", "Ελληνικά και русский",
                "emoji 😀👍🏽 family 👨‍👩‍👧 flags 🇫🇷", "mixed\u00a0nbsp\u2003em\u3000ideo", "Zalgo: Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
                "code: for (int i = 0; i < n; i++) { x += a[i]; }\n\n    return x;\n", "   leading and trailing   \n\n",
                "!!!??? ... --- *** ((()))", "\u2028line sep\u2029para\u0085nel", "hello\u200bzero width", "ǅ titlecase ʰ modifier",
        };
        for (String s : samples) assertSameAsJtokkit(s);
    }

    @Test
    void randomStringsMatchJtokkit() {
        Rng rng = new Rng(1234);
        String[] atoms = {"a", "Z", "é", "ß", "ж", "中", "😀", "🏽", "\u200d", "0", "7", "٣", "½", " ", "  ", "\t", "\n", "\r\n",
                "'", "'s", "'ll", "'re", "'T", ".", ",", "!", "-", "\u00a0", "\u3000", "\u0301", "<|", "|>", "x", "the", " of"};
        for (int t = 0; t < 3000; t++) {
            StringBuilder sb = new StringBuilder();
            int len = rng.nextInt(25);
            for (int i = 0; i < len; i++) sb.append(atoms[rng.nextInt(atoms.length)]);
            assertSameAsJtokkit(sb.toString());
        }
        // Random code points from the whole BMP and beyond (no lone surrogates: valid Unicode only).
        for (int t = 0; t < 2000; t++) {
            StringBuilder sb = new StringBuilder();
            int len = 1 + rng.nextInt(12);
            for (int i = 0; i < len; i++) {
                int cp = rng.nextInt(4) == 0 ? 0x20 + rng.nextInt(0x60) : rng.nextInt(0x20000);
                if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'q';
                sb.appendCodePoint(cp);
            }
            assertSameAsJtokkit(sb.toString());
        }
    }
}
