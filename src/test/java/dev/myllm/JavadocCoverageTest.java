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

    /**
     * In the entry package, every public method and constructor of a class that takes an argument says what it throws
     * ({@code @throws}), and every record's checking constructor does: a program's author reads there which
     * exceptions to catch (a null argument, bad input, a file that cannot be read or written).
     */
    @Test
    void theEntryPackageSaysWhatItThrows() throws IOException {
        List<Path> sources;
        try (Stream<Path> s = Files.list(Path.of("src/main/java/dev/myllm"))) {
            sources = s.filter(p -> p.toString().endsWith(".java") && !p.endsWith("package-info.java")).toList();
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> silent = new ArrayList<>();
        try (StandardJavaFileManager fm = javac.getStandardFileManager(null, null, null)) {
            JavacTask task = (JavacTask) javac.getTask(null, fm, null, List.of("-proc:none"), null, fm.getJavaFileObjectsFromPaths(sources));
            DocTrees docs = DocTrees.instance(task);
            for (CompilationUnitTree unit : task.parse()) {
                String source = unit.getSourceFile().getCharContent(true).toString();
                for (Tree type : unit.getTypeDecls()) {
                    if (!(type instanceof ClassTree c) || !c.getModifiers().getFlags().contains(Modifier.PUBLIC)) continue;
                    boolean record = c.getKind() == Tree.Kind.RECORD;
                    if (c.getKind() != Tree.Kind.CLASS && !record) continue;
                    for (Tree member : c.getMembers()) {
                        if (!(member instanceof com.sun.source.tree.MethodTree m) || !m.getModifiers().getFlags().contains(Modifier.PUBLIC)) continue;
                        boolean constructor = m.getName().contentEquals("<init>");
                        // a record's compact constructor (no parameter list in the source) checks every value; its other
                        // constructors and methods pass through it
                        boolean checked = record ? constructor && !source.substring((int) docs.getSourcePositions().getStartPosition(unit, m),
                                (int) docs.getSourcePositions().getStartPosition(unit, m.getBody())).contains("(") : !m.getParameters().isEmpty();
                        if (!checked) continue;
                        DocCommentTree doc = docs.getDocCommentTree(com.sun.source.util.TreePath.getPath(unit, m));
                        boolean throwsTag = doc != null && doc.getBlockTags().stream().anyMatch(t -> t.getKind() == com.sun.source.doctree.DocTree.Kind.THROWS);
                        if (!throwsTag) {
                            long line = unit.getLineMap().getLineNumber(docs.getSourcePositions().getStartPosition(unit, m));
                            silent.add(c.getSimpleName() + ":" + line + " " + (constructor ? c.getSimpleName() : m.getName()));
                        }
                    }
                }
            }
        }
        assertThat(silent).as("public methods whose Javadoc does not say what they throw").isEmpty();
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
