package dev.myllm.data;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The book's {@code GPTDatasetV1} window rule and the train/validation split (the loader is {@code train.TokenWindows}). */
class SlidingWindowDatasetTest {
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
    void splitsByFraction() {
        Splits.Pair<int[]> p = Splits.tokens(new int[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9);
        assertThat(p.train()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(p.validation()).containsExactly(10);
        assertThatThrownBy(() -> Splits.tokens(new int[3], 1.5)).hasMessageContaining("1.5");
    }
}
