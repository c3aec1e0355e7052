package dev.myllm.book;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** The fast chapters reproduce every number the book prints (ch04 and ch05 build the 124M model; BookInitTest covers it). */
class ChaptersTest {
    static void allSame(Report r) {
        for (Report.Row row : r.rows()) {
            assertNotEquals(Report.Mark.DIFFERENT, row.mark(), r.chapter() + ": " + row.what() + " = " + row.ours() + ", book " + row.book());
        }
        assertTrue(r.rows().stream().filter(x -> x.mark() == Report.Mark.SAME).count() >= 4, r.chapter());
    }

    @Test
    void chapter2() {
        allSame(Ch02.run());
    }

    @Test
    void chapter3() {
        allSame(Ch03.run());
    }

    @Test
    void appendices() {
        allSame(AppendixA.run());
        allSame(AppendixD.run());
        Report e = AppendixE.run();
        for (Report.Row row : e.rows()) assertNotEquals(Report.Mark.DIFFERENT, row.mark(), row.what() + " = " + row.ours());
    }

    @Test
    void reportMarksDifferences() {
        Report r = new Report("x", "y").number("a", 0.08524, "0.0852").number("b", 1.5, "1.4").note("c", "1", "2", "gpu");
        assertEquals(Report.Mark.SAME, r.rows().get(0).mark());
        assertEquals(Report.Mark.DIFFERENT, r.rows().get(1).mark());
        assertEquals(Report.Mark.NOTE, r.rows().get(2).mark());
        assertFalse(r.allSame());
    }
}
