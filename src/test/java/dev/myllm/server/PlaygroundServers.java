package dev.myllm.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.myllm.generate.TokenDecoder;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.RandomModels;
import dev.myllm.tokenizer.BpeTokenizer;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;

/** A tiny random GPT-2-vocabulary model behind a real server on a free port, for the playground's tests (HTTP helpers: {@link TestServers}). */
final class PlaygroundServers {
    static final ObjectMapper JSON = new ObjectMapper();
    /** GPT-2's vocabulary (so its tokenizer works), 2 layers of width 32 with 4 heads, context 64. */
    static final GPTConfig CONFIG = new GPTConfig(50257, 64, 32, 4, 2, 0f, true, true, 1e-5f);
    private static Tokenizer gpt2;

    private PlaygroundServers() {
    }

    static synchronized Tokenizer gpt2() {
        if (gpt2 == null) gpt2 = Tokenizers.load("gpt2");
        return gpt2;
    }

    static ServedModel model(long seed) {
        GPTModel m = RandomModels.uniform(CONFIG, seed);
        Tokenizer tok = gpt2();
        TokenDecoder dec = id -> tok instanceof BpeTokenizer b ? b.tokenBytes(id) : tok.decodeBytes(new int[]{id});
        return new ServedModel("tiny", m, tok, dec, ChatTemplate.transcript(), tok.eotId(), 1_700_000_000L);
    }

    static OpenAiServer start(ServedModel m, ServerConfig config) throws Exception {
        return new OpenAiServer(m, config.withPort(0), line -> { }).start();
    }
}
