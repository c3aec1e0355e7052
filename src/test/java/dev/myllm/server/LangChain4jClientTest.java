package dev.myllm.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.StreamingResponseHandler;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiLanguageModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingLanguageModel;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.Response;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.tokenizer.Specials;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** LangChain4j's OpenAI client, unchanged, talks to the server: chat, completions, both streamed and whole. */
class LangChain4jClientTest {
    static ServedModel model;
    static TestServers.Running srv;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        model = TestServers.model(3);
        srv = TestServers.start(model, ServerConfig.defaults().withApiKey(TestServers.KEY));
        base = srv.base() + "/v1";
    }

    @AfterAll
    static void stop() {
        srv.close();
    }

    /** What generate gives alone for this text, greedy, with these stop strings. */
    static Generator.Result solo(String text, int max, List<String> stops) {
        int[] ids = model.tokenizer().encode(text, Specials.TEXT);
        return new Generator(model.model(), model.decoder())
                .generate(ids, GenerationConfig.greedy(max).withEos(model.eosId()).withStopStrings(stops));
    }

    @Test
    void chatWholeAndStreamed() throws Exception {
        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(base).apiKey(TestServers.KEY).modelName("tiny")
                .temperature(0.0).maxTokens(8).timeout(Duration.ofSeconds(60)).build();
        ChatResponse r = chat.chat(SystemMessage.from("You are terse."), UserMessage.from("What is a token?"));
        String prompt = model.chat().render(List.of(new ChatTemplate.Message("system", "You are terse."),
                new ChatTemplate.Message("user", "What is a token?")));
        Generator.Result g = solo(prompt, 8, model.chat().stops());
        assertThat(r.aiMessage().text()).isEqualTo(g.text());
        assertThat(r.tokenUsage().inputTokenCount()).isEqualTo(model.tokenizer().encode(prompt).length);
        assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(g.tokens().length + (g.stopReason() == Generator.StopReason.STOP_STRING ? 1 : 0));
        assertThat(r.finishReason()).isEqualTo(g.stopReason() == Generator.StopReason.LENGTH ? FinishReason.LENGTH : FinishReason.STOP);

        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(base).apiKey(TestServers.KEY)
                .modelName("tiny").temperature(0.0).maxTokens(8).timeout(Duration.ofSeconds(60)).build();
        StringBuilder parts = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        streaming.chat(List.of(SystemMessage.from("You are terse."), UserMessage.from("What is a token?")), new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                parts.append(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse complete) {
                done.complete(complete);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse s = done.get(60, TimeUnit.SECONDS);
        assertThat(parts.toString()).isEqualTo(g.text());
        assertThat(s.aiMessage().text()).isEqualTo(g.text());
    }

    @Test
    void completionsWholeAndStreamed() throws Exception {
        OpenAiLanguageModel lm = OpenAiLanguageModel.builder().baseUrl(base).apiKey(TestServers.KEY).modelName("tiny")
                .temperature(0.0).timeout(Duration.ofSeconds(60)).build();
        Response<String> r = lm.generate("Every effort moves you");
        Generator.Result g = solo("Every effort moves you", 16, List.of()); // OpenAI's default max_tokens is 16
        assertThat(r.content()).isEqualTo(g.text());
        assertThat(r.tokenUsage().outputTokenCount()).isEqualTo(g.tokens().length);

        OpenAiStreamingLanguageModel slm = OpenAiStreamingLanguageModel.builder().baseUrl(base).apiKey(TestServers.KEY)
                .modelName("tiny").temperature(0.0).timeout(Duration.ofSeconds(60)).build();
        StringBuilder parts = new StringBuilder();
        CompletableFuture<Response<String>> done = new CompletableFuture<>();
        slm.generate("Every effort moves you", new StreamingResponseHandler<String>() {
            @Override
            public void onNext(String token) {
                parts.append(token);
            }

            @Override
            public void onComplete(Response<String> response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        done.get(60, TimeUnit.SECONDS);
        assertThat(parts.toString()).isEqualTo(g.text());
    }

    @Test
    void logitBiasGoesThroughTheClient() {
        // LangChain4j's logitBias, as the client sends it: a large bias on "." makes every token one
        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(base).apiKey(TestServers.KEY).modelName("tiny")
                .temperature(0.0).maxTokens(3).logitBias(java.util.Map.of("13", 100)).timeout(Duration.ofSeconds(60)).build();
        assertThat(chat.chat(UserMessage.from("Hi")).aiMessage().text()).isEqualTo("...");
    }

    @Test
    void aWrongKeyIsAnAuthenticationError() {
        OpenAiChatModel chat = OpenAiChatModel.builder().baseUrl(base).apiKey("sk-wrong").modelName("tiny")
                .maxTokens(2).timeout(Duration.ofSeconds(30)).maxRetries(0).build();
        try {
            chat.chat("hi");
            throw new AssertionError("a wrong key was accepted");
        } catch (RuntimeException e) {
            assertThat(e.getClass().getSimpleName()).isEqualTo("AuthenticationException");
            assertThat(e.getMessage()).contains("Incorrect API key");
        }
    }
}
