package dev.myllm;

import com.sun.source.doctree.DocCommentTree;
import com.sun.source.tree.ClassTree;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.Tree;
import com.sun.source.util.DocTrees;
import com.sun.source.util.JavacTask;
import com.sun.source.util.TreePathScanner;
import org.junit.jupiter.api.Test;

import javax.lang.model.element.Modifier;
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

/** Every public type of the main sources, nested ones too, opens with a Javadoc sentence (javadoc's own check is off for them). */
class JavadocCoverageTest {
    @Test
    void everyPublicTypeHasItsSentence() throws IOException {
        List<Path> sources;
        try (Stream<Path> s = Files.walk(Path.of("src/main/java"))) {
            sources = s.filter(p -> p.toString().endsWith(".java") && !p.endsWith("package-info.java")).toList();
        }
        assertThat(sources).hasSizeGreaterThan(100);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> missing = new ArrayList<>();
        try (StandardJavaFileManager fm = javac.getStandardFileManager(null, null, null)) {
            JavacTask task = (JavacTask) javac.getTask(null, fm, null, List.of("-proc:none"), null, fm.getJavaFileObjectsFromPaths(sources));
            DocTrees docs = DocTrees.instance(task);
            for (CompilationUnitTree unit : task.parse()) {
                new TreePathScanner<Void, Void>() {
                    @Override
                    public Void visitClass(ClassTree c, Void v) {
                        boolean visible = c.getModifiers().getFlags().contains(Modifier.PUBLIC) || isInterfaceMember();
                        if (visible && c.getKind() != Tree.Kind.NEW_CLASS) {
                            DocCommentTree doc = docs.getDocCommentTree(getCurrentPath());
                            if (doc == null || doc.getFirstSentence().isEmpty()) {
                                long line = unit.getLineMap().getLineNumber(docs.getSourcePositions().getStartPosition(unit, c));
                                missing.add(Path.of(unit.getSourceFile().toUri()).getFileName() + ":" + line + " " + c.getSimpleName());
                            }
                        }
                        return super.visitClass(c, v);
                    }

                    /** Types nested in a public interface are public without saying so. */
                    private boolean isInterfaceMember() {
                        Tree parent = getCurrentPath().getParentPath().getLeaf();
                        return parent instanceof ClassTree p && p.getKind() == Tree.Kind.INTERFACE
                                && p.getModifiers().getFlags().contains(Modifier.PUBLIC);
                    }
                }.scan(unit, null);
            }
        }
        assertThat(missing).as("public types without a Javadoc sentence").isEmpty();
    }

    /** The entry package is held to every doclint check, "missing" included: each parameter and result is described. */
    @Test
    void theEntryPackageIsFullyDocumented(@org.junit.jupiter.api.io.TempDir Path out) throws IOException {
        List<Path> sources;
        try (Stream<Path> s = Files.list(Path.of("src/main/java/dev/myllm"))) {
            sources = s.filter(p -> p.toString().endsWith(".java")).toList();
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        java.io.StringWriter log = new java.io.StringWriter();
        javax.tools.DiagnosticCollector<javax.tools.JavaFileObject> diags = new javax.tools.DiagnosticCollector<>();
        try (StandardJavaFileManager fm = javac.getStandardFileManager(null, null, null)) {
            List<String> opts = List.of("-proc:none", "-d", out.toString(), "-cp", System.getProperty("java.class.path"),
                    "--add-modules", "jdk.incubator.vector", "-Xlint:-incubating", "-Xdoclint:all/protected", "-Xdoclint/package:dev.myllm");
            boolean ok = javac.getTask(log, fm, diags, opts, null, fm.getJavaFileObjectsFromPaths(sources)).call();
            List<String> problems = diags.getDiagnostics().stream()
                    .filter(d -> d.getKind() != javax.tools.Diagnostic.Kind.NOTE && !d.getMessage(null).contains("incubat"))
                    .map(d -> d.getSource().getName().replaceAll(".*/", "") + ":" + d.getLineNumber() + " " + d.getMessage(null)).toList();
            assertThat(problems).as("doclint on dev.myllm").isEmpty();
            assertThat(ok).as(log.toString()).isTrue();
        }
    }
}
