package dev.myllm.data;

import dev.myllm.tensor.Rng;
import dev.myllm.tokenizer.BpeTokenizer;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DataLoaderTest {
    static final int[] VERDICT = BpeTokenizer.gpt2().encode(Tokenizers.verdictText(), Specials.ALLOW);

    @Test
    void booksFirstBatch() {
        DataLoader dl = new DataLoader(new SlidingWindowDataset(VERDICT, 4, 4), 8, false, true, null);
        Batch b = dl.next();
        assertThat(b.rows()).isEqualTo(8);
        assertThat(b.cols()).isEqualTo(4);
        assertThat(Arrays.copyOfRange(b.inputs(), 0, 12)).containsExactly(40, 367, 2885, 1464, 1807, 3619, 402, 271, 10899, 2138, 257, 7026);
        assertThat(Arrays.copyOfRange(b.targets(), 0, 4)).containsExactly(367, 2885, 1464, 1807);
        assertThat(b.input(7, 3)).isEqualTo(VERDICT[31]);
        assertThat(b.target(7, 3)).isEqualTo(VERDICT[32]);
    }

    @Test
    void stridesAndWindowCountFollowPythonRange() {
        int[] t = new int[10];
        for (int i = 0; i < 10; i++) t[i] = i;
        SlidingWindowDataset d = new SlidingWindowDataset(t, 4, 1);
        assertThat(d.size()).isEqualTo(6); // range(0, 10 - 4, 1)
        assertThat(new SlidingWindowDataset(t, 4, 4).size()).isEqualTo(2); // starts 0, 4
        assertThat(new SlidingWindowDataset(t, 3, 4).size()).isEqualTo(2); // starts 0, 4 (< 7)
        assertThatThrownBy(() -> new SlidingWindowDataset(t, 10, 1)).hasMessageContaining("shorter than one window");
    }

    @Test
    void chapter5SplitGivesNineTrainingBatchesAndOneValidation() {
        Splits.Pair<String> parts = Splits.text(Tokenizers.verdictText(), 0.9);
        BpeTokenizer g = BpeTokenizer.gpt2();
        SlidingWindowDataset train = new SlidingWindowDataset(g.encode(parts.train(), Specials.ALLOW), 256, 256);
        SlidingWindowDataset val = new SlidingWindowDataset(g.encode(parts.validation(), Specials.ALLOW), 256, 256);
        DataLoader tl = new DataLoader(train, 2, true, true, new Rng(123));
        DataLoader vl = new DataLoader(val, 2, false, false, null);
        assertThat(tl.batchesPerEpoch()).isEqualTo(9);
        assertThat(vl.batchesPerEpoch()).isEqualTo(1);
        int tokens = 0;
        for (Batch b : tl.restOfEpoch()) tokens += b.rows() * b.cols();
        assertThat(tokens).isEqualTo(4608);
        Batch v = vl.next();
        assertThat(v.rows() * v.cols()).isEqualTo(512);
    }

    @Test
    void shuffleIsSeededAndResumesExactly() {
        int[] t = new int[1000];
        for (int i = 0; i < t.length; i++) t[i] = i;
        SlidingWindowDataset d = new SlidingWindowDataset(t, 8, 8);
        DataLoader a = new DataLoader(d, 5, true, false, new Rng(7));
        List<Integer> firstRows = new ArrayList<>();
        DataLoader.Position saved = null;
        for (int i = 0; i < 60; i++) { // runs over three epochs (25 batches each)
            if (i == 37) saved = a.position();
            firstRows.add(a.next().inputs()[0]);
        }
        assertThat(saved.epoch()).isEqualTo(1);
        assertThat(firstRows.subList(0, 25)).doesNotContainSequence(0, 40, 80); // shuffled, not in order
        assertThat(firstRows.subList(0, 25)).isNotEqualTo(firstRows.subList(25, 50)); // reshuffled per epoch
        DataLoader b = new DataLoader(d, 5, true, false, new Rng(999));
        b.seek(saved);
        for (int i = 37; i < 60; i++) assertThat(b.next().inputs()[0]).isEqualTo(firstRows.get(i));
        DataLoader same = new DataLoader(d, 5, true, false, new Rng(7));
        assertThat(same.next().inputs()[0]).isEqualTo(firstRows.get(0));
        // The last batch of an epoch keeps its 124 % 5 = 4 rows when drop_last is off.
        DataLoader c = new DataLoader(d, 5, false, false, null);
        Batch last = null;
        for (Batch x : c.restOfEpoch()) last = x;
        assertThat(last.rows()).isEqualTo(4);
    }

    @Test
    void splitsByFraction() {
        Splits.Pair<int[]> p = Splits.tokens(new int[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9);
        assertThat(p.train()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(p.validation()).containsExactly(10);
        assertThatThrownBy(() -> Splits.tokens(new int[3], 1.5)).hasMessageContaining("1.5");
    }
}
