package dev.myllm.train;

import dev.myllm.data.Batch;
import dev.myllm.data.Splits;
import dev.myllm.tensor.TorchGenerator;
import dev.myllm.tokenizer.BpeTokenizer;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The one data loader: the book's batches, drop_last, seeded shuffling, PyTorch's order, and exact resume. */
class TokenWindowsTest {
    static final int[] VERDICT = BpeTokenizer.gpt2().encode(Tokenizers.verdictText(), Specials.ALLOW);

    @Test
    void booksFirstBatch() {
        // create_dataloader_v1(raw_text, batch_size=8, max_length=4, stride=4, shuffle=False)
        Batch b = new TokenWindows(VERDICT, 8, 4, 4, false, 0).batch(0, 0);
        assertThat(b.rows()).isEqualTo(8);
        assertThat(b.cols()).isEqualTo(4);
        assertThat(Arrays.copyOfRange(b.inputs(), 0, 12)).containsExactly(40, 367, 2885, 1464, 1807, 3619, 402, 271, 10899, 2138, 257, 7026);
        assertThat(Arrays.copyOfRange(b.targets(), 0, 4)).containsExactly(367, 2885, 1464, 1807);
        assertThat(b.input(7, 3)).isEqualTo(VERDICT[31]);
        assertThat(b.target(7, 3)).isEqualTo(VERDICT[32]);
        // batch_size=1, max_length=4, stride=1: the second batch starts one token later
        assertThat(new TokenWindows(VERDICT, 1, 4, 1, false, 0).batch(0, 1).inputs()).containsExactly(367, 2885, 1464, 1807);
    }

    @Test
    void chapter5SplitGivesNineTrainingBatchesAndOneValidation() {
        Splits.Pair<String> parts = Splits.text(Tokenizers.verdictText(), 0.9);
        BpeTokenizer g = BpeTokenizer.gpt2();
        TokenWindows tl = new TokenWindows(g.encode(parts.train(), Specials.ALLOW), 2, 256, 256, true, 123);
        TokenWindows vl = new TokenWindows(g.encode(parts.validation(), Specials.ALLOW), 2, 256, 256, false, 0, false);
        assertThat(tl.batchesPerEpoch()).isEqualTo(9);
        assertThat(vl.batchesPerEpoch()).isEqualTo(1);
        int tokens = 0;
        for (Batch b : tl.first(0)) tokens += b.rows() * b.cols();
        assertThat(tokens).isEqualTo(4608);
        Batch v = vl.batch(0, 0);
        assertThat(v.rows() * v.cols()).isEqualTo(512);
    }

    @Test
    void shuffleIsSeededPerEpochAndResumesExactly() {
        int[] t = new int[1000];
        for (int i = 0; i < t.length; i++) t[i] = i;
        // 124 windows of 8, batches of 5, the last short batch kept: 25 per epoch
        TokenWindows a = new TokenWindows(t, 5, 8, 8, true, 7, false);
        assertThat(a.batchesPerEpoch()).isEqualTo(25);
        List<Integer> firstRows = new ArrayList<>();
        for (int i = 0; i < 75; i++) firstRows.add(a.batch(i / 25, i % 25).inputs()[0]);
        assertThat(firstRows.subList(0, 25)).doesNotContainSequence(0, 40, 80); // shuffled, not in order
        assertThat(firstRows.subList(0, 25)).isNotEqualTo(firstRows.subList(25, 50)); // reshuffled per epoch
        // a resumed run addresses batches by (epoch, index): a fresh loader gives the same ones
        TokenWindows b = new TokenWindows(t, 5, 8, 8, true, 7, false);
        for (int i = 37; i < 75; i++) assertThat(b.batch(i / 25, i % 25).inputs()[0]).isEqualTo(firstRows.get(i));
        assertThat(new TokenWindows(t, 5, 8, 8, true, 999, false).batch(0, 0).inputs()[0]).isNotEqualTo(firstRows.get(0));
        TokenWindows plain = new TokenWindows(t, 5, 8, 8, false, 0, false);
        assertThat(plain.batch(0, 24).rows()).isEqualTo(4); // 124 % 5
        assertThat(new TokenWindows(t, 5, 8, 8, false, 0).batchesPerEpoch()).isEqualTo(24); // drop_last
    }

    @Test
    void torchOrderIsPyTorchsDataLoaderAndItsStateRestores() {
        int[] t = new int[400];
        for (int i = 0; i < t.length; i++) t[i] = i;
        TokenWindows w = new TokenWindows(t, 4, 8, 8, true, 0).torchOrder(new TorchGenerator(123));
        int[] expected = new TorchGenerator(123).dataLoaderEpoch(49, true);
        Batch b = w.batch(0, 0);
        for (int r = 0; r < 4; r++) assertThat(b.input(r, 0)).isEqualTo(expected[r] * 8);
        String saved = w.orderState().state();
        Batch later = w.batch(0, 11);
        TokenWindows resumed = new TokenWindows(t, 4, 8, 8, true, 0).torchOrder(new TorchGenerator(5));
        resumed.orderState().setState(saved);
        assertThat(resumed.batch(0, 11).inputs()).containsExactly(later.inputs());
    }
}
