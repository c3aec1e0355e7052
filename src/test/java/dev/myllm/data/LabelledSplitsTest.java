package dev.myllm.data;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** numpy's legacy permutation and the book's balance/split, checked against the rows finetune §1.2 prints. */
class LabelledSplitsTest {
    @Test
    void mt19937MatchesTheReferenceAndNumpysPermutation() {
        // init_genrand(5489) is the reference generator's default seed; its first output is well known.
        assertThat(new NumpyRandomState(5489).nextUint32()).isEqualTo(3499211612L);
        // Values from numpy (tools/sms_label_sequence.py prints them).
        assertThat(new NumpyRandomState(123).permutation(10)).containsExactly(4, 0, 7, 5, 8, 3, 1, 6, 9, 2);
        assertThat(new NumpyRandomState(0).permutation(5)).containsExactly(2, 0, 1, 3, 4);
        assertThat(new NumpyRandomState(4294967295L).permutation(7)).containsExactly(1, 5, 0, 6, 4, 2, 3);
        int[] p = new NumpyRandomState(2024).permutation(70000);
        assertThat(new int[]{p[0], p[1], p[2], p[3], p[4], p[5], p[69997], p[69998], p[69999]})
                .containsExactly(58020, 27615, 41169, 30184, 44958, 39600, 51808, 52730, 7816);
        assertThat(new NumpyRandomState(123).permutation(4825)).startsWith(3720, 3580, 4182, 3858, 4713, 3847);
    }

    /** 5,572 rows with the label sequence of the SMS collection; each text is its row number. */
    static List<LabelledExample> smsLikeRows() throws IOException {
        String seq;
        try (InputStream in = LabelledSplitsTest.class.getResourceAsStream("/data/sms-spam-labels.txt")) {
            seq = new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip();
        }
        List<LabelledExample> rows = new ArrayList<>();
        for (int i = 0; i < seq.length(); i++) rows.add(new LabelledExample(Integer.toString(i), seq.charAt(i) == 's' ? "spam" : "ham"));
        return rows;
    }

    private static List<Integer> rows(List<LabelledExample> xs) {
        return xs.stream().map(e -> Integer.parseInt(e.text())).toList();
    }

    @Test
    void theBooksBalancedSetAndSplitRows() throws IOException {
        List<LabelledExample> all = smsLikeRows();
        assertThat(all).hasSize(5572);
        assertThat(LabelledSplits.counts(all)).containsExactly(java.util.Map.entry("ham", 4825), java.util.Map.entry("spam", 747));

        List<Integer> balanced = rows(LabelledSplits.balance(all, 123));
        assertThat(balanced).hasSize(1494);
        assertThat(balanced.subList(0, 5)).containsExactly(4307, 4138, 4831, 4461, 5440);
        assertThat(balanced.subList(1489, 1494)).containsExactly(5537, 5540, 5547, 5566, 5567);

        LabelledSplits s = LabelledSplits.of(all, true, 123);
        assertThat(s.train()).hasSize(1045);
        assertThat(s.validation()).hasSize(149);
        assertThat(s.test()).hasSize(300);
        assertThat(rows(s.train()).subList(0, 5)).containsExactly(2087, 4694, 881, 1172, 2170);
        assertThat(rows(s.validation()).subList(0, 5)).containsExactly(3778, 1263, 990, 3053, 839);
        assertThat(rows(s.test()).subList(0, 5)).containsExactly(2079, 3230, 3720, 4609, 3126);
        assertThat(LabelledSplits.counts(s.train())).containsExactly(java.util.Map.entry("ham", 528), java.util.Map.entry("spam", 517));
        assertThat(s.labels()).containsExactly("ham", "spam");
        assertThat(s.get("val")).isSameAs(s.validation());
    }

    @Test
    void noBalanceSplitsEveryRow() throws IOException {
        LabelledSplits s = LabelledSplits.of(smsLikeRows(), false, 123);
        // int(5572*0.7) = 3900, int(5572*0.1) = 557
        assertThat(s.train()).hasSize(3900);
        assertThat(s.validation()).hasSize(557);
        assertThat(s.test()).hasSize(1115);
    }

    @Test
    void threeClassesUndersampleEveryLargerClassToTheSmallest() {
        List<LabelledExample> rows = new ArrayList<>();
        String[] labels = {"b", "a", "c", "a", "b", "a", "a", "c", "b", "a", "b"}; // a:5 b:4 c:2
        for (int i = 0; i < labels.length; i++) rows.add(new LabelledExample(Integer.toString(i), labels[i]));
        List<LabelledExample> bal = LabelledSplits.balance(rows, 123);
        // numpy: RandomState(123).permutation(5) = [1,3,4,0,2], permutation(4) = [3,0,1,2].
        // a rows [1,3,5,6,9] -> positions 1, 3 -> rows 3, 6; b rows [0,4,8,10] -> positions 3, 0 -> rows 10, 0;
        // then the smallest class c in file order: rows 2, 7.
        assertThat(rows(bal)).containsExactly(3, 6, 10, 0, 2, 7);
        assertThat(LabelledSplits.counts(bal).values()).containsOnly(2);
    }
}
