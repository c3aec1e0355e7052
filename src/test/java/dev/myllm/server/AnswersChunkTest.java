package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stream chunks pasted from pre-rendered pieces are byte for byte what Jackson writes for their trees. */
class AnswersChunkTest {
    private static final List<String> TEXTS = List.of("", " the", "a\"quoted\" \\ back\\slash", "tab\there\nnew line\r\u0000\u001f\u007f",
            "é ü 漢字 😀 \u2028\u2029", "</script> & <b>", "/slash/");

    private static Sampling sampling() {
        return new Sampling(16, 0f, 1f, 0, 0L, 0f, 0f, List.of(), -1, false);
    }

    private static void sameAsJackson(ServedModel m, boolean chat, boolean usage) {
        Plan plan = new Plan(chat, new int[]{1, 2, 3}, "abc", sampling(), 1, true, usage, false);
        Answers a = new Answers(m, plan, "cmpl-\"odd\"-id");
        for (String text : TEXTS) {
            for (String finish : new String[]{null, "stop", "length"}) {
                for (boolean first : new boolean[]{true, false}) {
                    for (int index : new int[]{0, 3, 12}) {
                        byte[] fast = a.chunkEvent(index, text, 7, null, finish, first, 0);
                        byte[] tree = Answers.event(a.chunk(index, text, List.of(), List.of(), finish, first, 0));
                        assertThat(new String(fast, StandardCharsets.UTF_8))
                                .as("chat %s usage %s text %s finish %s first %s", chat, usage, text, finish, first)
                                .isEqualTo(new String(tree, StandardCharsets.UTF_8));
                        assertThat(fast).isEqualTo(tree);
                    }
                }
            }
        }
    }

    @Test
    void completionAndChatChunksMatchJacksonsBytes() {
        ServedModel plain = TestServers.model(1);
        ServedModel odd = new ServedModel("my \"model\" é/\\", plain.model(), plain.tokenizer(), plain.decoder(), plain.chat(),
                plain.eosId(), plain.created());
        for (ServedModel m : List.of(plain, odd)) {
            for (boolean chat : new boolean[]{false, true}) {
                for (boolean usage : new boolean[]{false, true}) sameAsJackson(m, chat, usage);
            }
        }
    }

    @Test
    void aChunkIsOneServerSentEvent() {
        ServedModel m = TestServers.model(1);
        Plan plan = new Plan(false, new int[]{1}, "x", sampling(), 1, true, false, false);
        String s = new String(new Answers(m, plan, "cmpl-1").chunkEvent(0, "hi", 5, null, null, true, 0), StandardCharsets.UTF_8);
        assertThat(s).startsWith("data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",").endsWith("}\n\n")
                .contains("\"choices\":[{\"index\":0,\"text\":\"hi\",\"logprobs\":null,\"finish_reason\":null}]}");
        assertThat(s.indexOf('\n')).isEqualTo(s.length() - 2);
    }
}
