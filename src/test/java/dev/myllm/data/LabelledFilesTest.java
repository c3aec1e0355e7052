package dev.myllm.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading labelled CSV/TSV/JSONL files, the pandas quote rules, and the one-line errors. */
class LabelledFilesTest {
    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    @Test
    void csvWithHeaderInEitherColumnOrderAndRfc4180Quotes() throws IOException {
        Path a = write("a.csv", "Label,Text\nham,\"Hi, there\"\nspam,\"Win \"\"cash\"\"\nnow\"\r\nham,plain\n");
        assertThat(LabelledFiles.read(a)).containsExactly(new LabelledExample("Hi, there", "ham"),
                new LabelledExample("Win \"cash\"\nnow", "spam"), new LabelledExample("plain", "ham"));
        Path b = write("b.csv", "text,label\nhello,greeting\nbye,farewell\nwhat?,question\n");
        assertThat(LabelledFiles.read(b)).extracting(LabelledExample::label).containsExactly("greeting", "farewell", "question");
        // Other columns are ignored when a header names the two we need.
        Path c = write("c.tsv", "id\tsentiment\ttext\n1\tpos\tgood\n2\tneg\tbad\n");
        assertThat(LabelledFiles.read(c, "sentiment", "text")).containsExactly(new LabelledExample("good", "pos"), new LabelledExample("bad", "neg"));
    }

    @Test
    void headerlessFilesFindTheLabelColumnByItsFewerValues() throws IOException {
        Path tsv = write("sms", "ham\tGo until jurong\nspam\tFree entry\nham\tOk lar\n");
        assertThat(LabelledFiles.read(tsv)).containsExactly(new LabelledExample("Go until jurong", "ham"),
                new LabelledExample("Free entry", "spam"), new LabelledExample("Ok lar", "ham"));
        Path csv = write("x.csv", "Go until jurong,ham\nFree entry,spam\nOk lar,ham\n");
        assertThat(LabelledFiles.read(csv)).extracting(LabelledExample::label).containsExactly("ham", "spam", "ham");
    }

    @Test
    void pandasQuoteRulesMergeLinesAfterAnUnclosedQuote() {
        // The SMS file's lines 5,082-5,084 in miniature: a text opening a quote it never closes on its line
        // runs on until the quote that opens the text two lines later; what follows that quote is appended.
        String tsv = "ham\t\"Keep ur problems\nham\tmiddle line\nham\t\"Tell me\" she said\nspam\t\"quoted\" text\tx\n";
        List<DelimitedText.Row> rows = DelimitedText.parse(tsv, '\t', "t");
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).fields()).containsExactly("ham", "Keep ur problems\nham\tmiddle line\nham\tTell me\" she said"); // as Python's csv
        assertThat(rows.get(0).line()).isEqualTo(1);
        assertThat(rows.get(1).line()).isEqualTo(4);
        assertThat(rows.get(1).fields()).containsExactly("spam", "quoted text", "x");
        // A quote inside an unquoted field is literal; "" in a quoted field is one quote; blank lines are skipped.
        assertThat(DelimitedText.parse("a\tsay \"hi\"\n\nb\t\"x\"\"y\"\n", '\t', "t"))
                .extracting(DelimitedText.Row::fields).containsExactly(List.of("a", "say \"hi\""), List.of("b", "x\"y"));
    }

    @Test
    void jsonlWithAnyLabelStringsAndARoundTrip() throws IOException {
        Path f = write("d.jsonl", "{\"text\": \"good film\", \"label\": \"positive\"}\n\n{\"label\": 2, \"text\": \"meh\"}\n");
        assertThat(LabelledFiles.read(f)).containsExactly(new LabelledExample("good film", "positive"), new LabelledExample("meh", "2"));
        List<LabelledExample> xs = List.of(new LabelledExample("line\nbreak, \"quotes\"\tand tab \u0092", "spam"), new LabelledExample("", "ham"));
        Path out = dir.resolve("sub/out.jsonl");
        LabelledFiles.writeJsonl(out, xs);
        assertThat(LabelledFiles.read(out)).isEqualTo(xs);
        assertThat(Files.readAllLines(out)).hasSize(2);
    }

    @Test
    void oneLineErrorsNameTheFileAndLine() throws IOException {
        Path empty = write("empty.csv", "\n\n");
        assertThatThrownBy(() -> LabelledFiles.read(empty)).hasMessage(empty + ": empty file (no labelled examples)");
        Path headerOnly = write("h.csv", "label,text\n");
        assertThatThrownBy(() -> LabelledFiles.read(headerOnly)).hasMessageContaining("a header and no labelled examples");
        Path noLabel = write("n.csv", "category,text\nx,y\n");
        assertThatThrownBy(() -> LabelledFiles.read(noLabel)).hasMessage(noLabel + ": unknown label column \"label\" (header has: category, text)");
        Path c = write("c.csv", "label,text\nham,ok\nspam\n");
        assertThatThrownBy(() -> LabelledFiles.read(c, "colour", "text")).hasMessageContaining("unknown label column \"colour\"");
        assertThatThrownBy(() -> LabelledFiles.read(c)).hasMessage(c + " line 3: expected 2 fields separated by ',', found 1 (quote a text that holds the delimiter)");
        Path q = write("q.tsv", "ham\tfine\nspam\t\"never closed\nham\tmore\n");
        assertThatThrownBy(() -> LabelledFiles.read(q)).hasMessage(q + " line 2: quoted field never closed (a \" without its closing \")");
        Path j = write("j.jsonl", "{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"lab\": \"y\"}\n");
        assertThatThrownBy(() -> LabelledFiles.read(j)).hasMessage(j + " line 2: no \"label\" field (unknown label column; keys: text, lab)");
        Path bad = write("bad.jsonl", "{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": oops}\n");
        assertThatThrownBy(() -> LabelledFiles.read(bad)).hasMessageStartingWith(bad + " line 2: not valid JSON");
        Path emptyLabel = write("e.csv", "label,text\n,hello\n");
        assertThatThrownBy(() -> LabelledFiles.read(emptyLabel)).hasMessage(emptyLabel + " line 2: empty label");
        assertThatThrownBy(() -> LabelledFiles.read(dir.resolve("missing.csv"))).hasMessageStartingWith("no such labelled file: ");
    }

    @Test
    void threeFilesAsGivenSplits() throws IOException {
        Path tr = write("train.csv", "Label,Text\nham,a\nspam,b\nother,c\n");
        Path va = write("val.jsonl", "{\"text\": \"d\", \"label\": \"ham\"}\n");
        Path te = write("test.tsv", "label\ttext\nspam\te\n");
        LabelledSplits s = LabelledSplits.ofFiles(tr, va, te);
        assertThat(s.train()).extracting(LabelledExample::text).containsExactly("a", "b", "c");
        assertThat(s.validation()).containsExactly(new LabelledExample("d", "ham"));
        assertThat(s.labels()).containsExactly("ham", "other", "spam");
    }
}
