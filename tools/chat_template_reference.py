#!/usr/bin/env python3
"""Renders the GGUF export's tokenizer.chat_template in Python's jinja2, the reference for
JinjaChatTemplateTest (which reads only the fixture this writes).

usage: python3 tools/chat_template_reference.py TEMPLATES.json > src/test/resources/server/chat_template_jinja.json
TEMPLATES.json maps each prompt format's name to the Jinja template our export writes; the test
writes it to target/chat-templates.json when the templates no longer match the fixture's.
Each chat is rendered plainly and with Hugging Face's trim_blocks/lstrip_blocks, with and without
the generation prompt."""
import json
import sys

import jinja2

CHATS = [
    [("user", "Who is Emma?")],
    [("system", "You are terse."), ("user", "Name a colour.\nOnly one.")],
    [("user", "Hi"), ("assistant", "Hello!"), ("user", "What's 2+2? {{ not code }} 'quoted' \\ back")],
    [("system", "You are terse."), ("user", "a"), ("user", "b"), ("assistant", "B"), ("developer", "Be kind."), ("user", "c")],
    [("user", "x"), ("assistant", "y")],
    [("tool", "42"), ("user", "and?")],
]


def main():
    templates = json.load(open(sys.argv[1], encoding="utf-8"))
    cases = []
    for fmt, template in sorted(templates.items()):
        for env_name, env in (("plain", jinja2.Environment()), ("trim", jinja2.Environment(trim_blocks=True, lstrip_blocks=True))):
            t = env.from_string(template)
            for chat in CHATS:
                messages = [{"role": r, "content": c} for r, c in chat]
                for gen in (True, False):
                    cases.append({"format": fmt, "env": env_name, "add_generation_prompt": gen, "messages": messages,
                                  "text": t.render(messages=messages, add_generation_prompt=gen)})
    json.dump({"jinja2": jinja2.__version__, "templates": templates, "cases": cases}, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
