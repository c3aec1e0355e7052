package dev.myllm;

import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.ImportTree;
import com.sun.source.tree.MemberSelectTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.util.JavacTask;
import com.sun.source.util.SourcePositions;
import com.sun.source.util.TreeScanner;
import com.sun.source.util.Trees;
import org.junit.jupiter.api.Test;

import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Only {@code cli} and {@code server} print for a person (DESIGN): the code a program embeds reports through return
 * values, listeners and callbacks, so nothing below them names the console streams, draws a progress bar itself, or
 * prints a stack trace.
 */
class NothingPrintsBelowTheCommandLineTest {
    @Test
    void noLibraryCodeNamesTheConsole() throws IOException {
        Path root = Path.of("src/main/java");
        List<Path> sources;
        try (Stream<Path> s = Files.walk(root)) {
            sources = s.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> !p.startsWith(root.resolve("dev/myllm/cli")) && !p.startsWith(root.resolve("dev/myllm/server")))
                    .toList();
        }
        assertThat(sources).hasSizeGreaterThan(100);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> found = new ArrayList<>();
        try (StandardJavaFileManager fm = javac.getStandardFileManager(null, null, null)) {
            JavacTask task = (JavacTask) javac.getTask(null, fm, null, List.of("-proc:none"), null, fm.getJavaFileObjectsFromPaths(sources));
            SourcePositions positions = Trees.instance(task).getSourcePositions();
            for (CompilationUnitTree unit : task.parse()) {
                new TreeScanner<Void, Void>() {
                    private void flag(com.sun.source.tree.Tree t, String what) {
                        long line = unit.getLineMap().getLineNumber(positions.getStartPosition(unit, t));
                        found.add(Path.of(unit.getSourceFile().toUri()).getFileName() + ":" + line + " " + what);
                    }

                    @Override
                    public Void visitImport(ImportTree i, Void v) {
                        if (i.getQualifiedIdentifier().toString().startsWith("me.tongfei.")) flag(i, i.getQualifiedIdentifier().toString());
                        return null;
                    }

                    @Override
                    public Void visitMemberSelect(MemberSelectTree m, Void v) {
                        String s = m.toString();
                        if (s.startsWith("me.tongfei.")) {
                            flag(m, s);
                            return null; // its own prefix is not a second finding
                        }
                        if (s.equals("System.out") || s.equals("System.err")) flag(m, s);
                        return super.visitMemberSelect(m, v);
                    }

                    @Override
                    public Void visitMethodInvocation(MethodInvocationTree call, Void v) {
                        if (call.getArguments().isEmpty() && call.getMethodSelect().toString().endsWith(".printStackTrace")) flag(call, call.toString());
                        return super.visitMethodInvocation(call, v);
                    }
                }.scan(unit, null);
            }
        }
        assertThat(found).as("console output below cli and server").isEmpty();
    }
}
