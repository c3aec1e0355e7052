// Renders the GGUF export's tokenizer.chat_template with llama.cpp's own chat code (libllama-common, which
// llama-server and llama-cli call), the reference for LlamaCppChatTemplateTest (which reads only the fixture
// this writes). For each chat: the Jinja path (llama.cpp's default in llama-cli and llama-server) with and
// without the generation prompt, and the non-Jinja path, which guesses one of llama.cpp's built-in formats
// from the template text (llama_chat_apply_template) or refuses it.
//
// Built against the llama.cpp that node-llama-cpp 3.21.1 ships (its prebuilt libraries; the headers of the
// same commit from its git bundle), in a scratch folder:
//   npm i -E node-llama-cpp@3.21.1 && git clone -q node_modules/node-llama-cpp/llama/gitRelease.bundle llama-src
//   L=node_modules/@node-llama-cpp/linux-x64/bins/linux-x64; S=llama-src
//   g++ -std=c++17 -I$S/include -I$S/common -I$S/ggml/include -I$S/vendor MYLLM/tools/llama_chat_reference.cpp \
//       -o llama_chat_reference $L/libllama-common.so $L/libllama.v0.4.0.so $L/libggml.v0.4.0.so $L/libggml-base.so -Wl,-rpath,$L
//   ./llama_chat_reference MYLLM/target/chat-templates.json > MYLLM/src/test/resources/server/chat_template_llama_cpp.json
// TEMPLATES.json maps each prompt format's name to the template our export writes; the test writes it to
// target/chat-templates.json when the templates no longer match the fixture's.
#include "chat.h"
#include "llama.h"
#include <nlohmann/json.hpp>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

using ojson = nlohmann::ordered_json;

// the chats of tools/chat_template_reference.py
static const std::vector<std::vector<std::pair<std::string, std::string>>> CHATS = {
    {{"user", "Who is Emma?"}},
    {{"system", "You are terse."}, {"user", "Name a colour.\nOnly one."}},
    {{"user", "Hi"}, {"assistant", "Hello!"}, {"user", "What's 2+2? {{ not code }} 'quoted' \\ back"}},
    {{"system", "You are terse."}, {"user", "a"}, {"user", "b"}, {"assistant", "B"}, {"developer", "Be kind."}, {"user", "c"}},
    {{"user", "x"}, {"assistant", "y"}},
    {{"tool", "42"}, {"user", "and?"}},
};

static ojson apply(const common_chat_templates * tmpls, const std::vector<common_chat_msg> & messages, bool jinja, bool generation) {
    common_chat_templates_inputs in;
    in.messages = messages;
    in.use_jinja = jinja;
    in.add_generation_prompt = generation;
    try {
        return ojson{{"text", common_chat_templates_apply(tmpls, in).prompt}};
    } catch (const std::exception & e) {
        return ojson{{"error", e.what()}};
    }
}

int main(int argc, char ** argv) {
    if (argc != 2) {
        std::cerr << "usage: llama_chat_reference TEMPLATES.json > FIXTURE.json\n";
        return 2;
    }
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    std::ifstream f(argv[1]);
    ojson templates = ojson::parse(f);
    ojson cases = ojson::array(), detected = ojson::object();
    for (auto & [format, template_src] : templates.items()) {
        // no model: the template as --chat-template would give it, GPT-2's end-of-text as BOS and EOS
        auto tmpls = common_chat_templates_init(nullptr, template_src.get<std::string>(), "<|endoftext|>", "<|endoftext|>");
        for (const auto & chat : CHATS) {
            std::vector<common_chat_msg> messages;
            ojson json_messages = ojson::array();
            for (const auto & [role, content] : chat) {
                common_chat_msg m;
                m.role = role;
                m.content = content;
                messages.push_back(m);
                json_messages.push_back({{"role", role}, {"content", content}});
            }
            for (bool generation : {true, false}) {
                cases.push_back({{"format", format}, {"add_generation_prompt", generation}, {"messages", json_messages},
                                 {"jinja", apply(tmpls.get(), messages, true, generation)},
                                 {"legacy", apply(tmpls.get(), messages, false, generation)}});
            }
        }
        // the C API on one user message "Hi": the built-in format it finds in the text renders it; -1 when none
        llama_chat_message hi{"user", "Hi"};
        std::vector<char> buf(4096);
        int32_t n = llama_chat_apply_template(template_src.get<std::string>().c_str(), &hi, 1, true, buf.data(), buf.size());
        detected[format] = n < 0 ? ojson(n) : ojson(std::string(buf.data(), n));
    }
    ojson out = {{"llama_cpp", "node-llama-cpp 3.21.1: llama.cpp v0.4.0, 80fb11ac73e66d89eae2c6a91d8a77428fa733ed"},
                 {"templates", templates}, {"llama_chat_apply_template", detected}, {"cases", cases}};
    std::cout << out.dump(1) << "\n";
    return 0;
}
