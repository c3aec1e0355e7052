// Renders the Ollama Modelfile TEMPLATE that `myllm export --modelfile` writes, the way Ollama
// executes a template over .Messages (github.com/ollama/ollama, template/template.go: Go's
// text/template with missingkey=zero and a json function; consecutive messages of one role
// joined with a blank line, every system message also joined into .System), the reference for
// OllamaTemplateTest (which reads only the fixture this writes).
//
// usage: go run tools/ollama_template_reference.go TEMPLATES.json > src/test/resources/server/chat_template_ollama.json
// TEMPLATES.json maps each prompt format's name to the template our export writes; the test writes
// it to target/ollama-templates.json when the templates no longer match the fixture's.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/template"
)

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

var chats = [][][2]string{
	{{"user", "Who is Emma?"}},
	{{"system", "You are terse."}, {"user", "Name a colour.\nOnly one."}},
	{{"user", "Hi"}, {"assistant", "Hello!"}, {"user", "What's 2+2? {{ not code }} 'quoted' \\ back \"double\" %s %d"}},
	{{"system", "You are terse."}, {"user", "a"}, {"user", "b"}, {"assistant", "B"}, {"developer", "Be kind."}, {"user", "c"}},
	{{"user", "x"}, {"assistant", "y"}},
	{{"tool", "42"}, {"user", "and?"}},
	{{"system", "One."}, {"system", "Two."}, {"user", "q1"}, {"assistant", "a1"}, {"user", "q2"}, {"assistant", "a2"}, {"user", "q3"}},
}

// collate as Ollama's: consecutive messages of one role (but tool) become one, contents joined by a blank line
func collate(msgs []message) (string, []*message) {
	var system []string
	var collated []*message
	for i := range msgs {
		if msgs[i].Role == "system" {
			system = append(system, msgs[i].Content)
		}
		if len(collated) > 0 && collated[len(collated)-1].Role == msgs[i].Role && msgs[i].Role != "tool" {
			collated[len(collated)-1].Content += "\n\n" + msgs[i].Content
		} else {
			collated = append(collated, &msgs[i])
		}
	}
	return strings.Join(system, "\n\n"), collated
}

func main() {
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	templates := map[string]string{}
	if err := json.Unmarshal(raw, &templates); err != nil {
		panic(err)
	}
	funcs := template.FuncMap{"json": func(v any) string { b, _ := json.Marshal(v); return string(b) }}
	var names []string
	for n := range templates {
		names = append(names, n)
	}
	sort.Strings(names)
	var cases []map[string]any
	for _, name := range names {
		t, err := template.New("").Option("missingkey=zero").Funcs(funcs).Parse(templates[name])
		if err != nil {
			panic(fmt.Sprintf("%s: %v", name, err))
		}
		for _, chat := range chats {
			var msgs []message
			for _, m := range chat {
				msgs = append(msgs, message{m[0], m[1]})
			}
			original := append([]message(nil), msgs...)
			system, collated := collate(msgs)
			var b bytes.Buffer
			if err := t.Execute(&b, map[string]any{"System": system, "Messages": collated, "Tools": nil, "Response": "", "Think": false, "IsThinkSet": false}); err != nil {
				panic(fmt.Sprintf("%s: %v", name, err))
			}
			var joined []message
			for _, m := range collated {
				joined = append(joined, *m)
			}
			cases = append(cases, map[string]any{"format": name, "messages": original, "collated": joined, "text": b.String()})
		}
	}
	out := map[string]any{"go": runtime.Version(), "templates": templates, "cases": cases}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
