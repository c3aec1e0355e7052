package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ArenaTest {
    @BeforeEach
    @AfterEach
    void reset() {
        Arena.releasePool();
        Arena.retain(0);
    }

    /** One outermost scope taking one buffer of each length, as a forward pass of that shape does. */
    private static void pass(int... lengths) {
        try (Arena a = Arena.open()) {
            for (int n : lengths) Arena.uninitialized(n);
        }
    }

    @Test
    void withoutRetentionOnlyTheLastTwoScopesSizesStay() {
        pass(1000);
        pass(2000);
        pass(3000);
        assertThat(Arena.pooled(1000)).isZero();
        assertThat(Arena.pooled(2000)).isEqualTo(1);
        assertThat(Arena.pooled(3000)).isEqualTo(1);
    }

    @Test
    void aPrefillShapeThatComesBackAfterOthersAllocatesNothingNew() {
        Arena.retain(1L << 20);
        // three passes of different row counts (a server's prefill waves), each followed by decode steps
        int[][] shapes = {{512 * 8, 512 * 24}, {64 * 8, 64 * 24}, {448 * 8, 448 * 24}};
        for (int[] shape : shapes) {
            pass(shape);
            for (int step = 0; step < 3; step++) pass(8, 24);
        }
        long before = Arena.allocatedFloats();
        for (int[] shape : shapes) pass(shape); // the next waves, in any order
        pass(8, 24);
        assertThat(Arena.allocatedFloats()).isEqualTo(before);
    }

    @Test
    void olderSizesAreKeptMostRecentFirstWithinTheBudget() {
        Arena.retain(4L * 3000); // room for 3000 floats of sizes older than the last two scopes
        pass(1000);
        pass(2000);
        pass(1500);
        pass(10);
        pass(11);
        // 1500 (the most recent old size) fits, 2000 would exceed the budget, and so 1000 goes too
        assertThat(Arena.pooled(1500)).isEqualTo(1);
        assertThat(Arena.pooled(2000)).isZero();
        assertThat(Arena.pooled(1000)).isZero();
        assertThat(Arena.pooledFloats()).isEqualTo(1500 + 10 + 11);
    }

    @Test
    void thePoolStaysWithinItsBudgetWhenEveryScopeHasNewShapes() {
        long budget = 4L * 50_000;
        Arena.retain(budget);
        for (int rows = 1; rows <= 300; rows++) pass(rows * 32, rows * 32 + 1);
        // the last two scopes' sizes, and older ones of at most the budget
        long lastTwo = 300 * 32 + 300 * 32 + 1 + 299 * 32 + 299 * 32 + 1;
        assertThat(Arena.pooledFloats()).isLessThanOrEqualTo(lastTwo + budget / 4).isGreaterThan(lastTwo + budget / 4 - 2 * 300 * 32 - 2);
        // and it still finds the most recent older shape
        long before = Arena.allocatedFloats();
        pass(298 * 32, 298 * 32 + 1);
        assertThat(Arena.allocatedFloats()).isEqualTo(before);
    }

    @Test
    void manyLengthsInOneScopeAreAllFoundAgain() {
        // more lengths than the table's first size: it grows and keeps finding them
        try (Arena a = Arena.open()) {
            for (int n = 1; n <= 500; n++) Arena.uninitialized(n);
        }
        long before = Arena.allocatedFloats();
        try (Arena a = Arena.open()) {
            for (int n = 500; n >= 1; n--) assertThat(Arena.uninitialized(n)).hasSize(n);
            assertThat(a.buffersTaken()).isEqualTo(500);
        }
        assertThat(Arena.allocatedFloats()).isEqualTo(before);
        for (int n = 1; n <= 500; n++) assertThat(Arena.pooled(n)).isEqualTo(1);
    }

    @Test
    void nestedScopesGiveTheirBuffersBackWhenTheyClose() {
        long before = Arena.allocatedFloats();
        try (Arena outer = Arena.open()) {
            float[] kept = Arena.uninitialized(100);
            for (int step = 0; step < 5; step++) {
                try (Arena inner = Arena.open()) {
                    float[] z = Arena.zeros(100);
                    assertThat(z).isNotSameAs(kept).containsOnly(0f);
                    z[3] = 1;
                }
            }
            assertThat(Arena.pooled(100)).isEqualTo(1); // one buffer for all five steps
            assertThat(outer.buffersTaken()).isEqualTo(1);
        }
        assertThat(Arena.pooled(100)).isEqualTo(2);
        assertThat(Arena.allocatedFloats() - before).isEqualTo(200);
    }

    @Test
    void negativeRetentionIsRefused() {
        assertThatThrownBy(() -> Arena.retain(-1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bytes");
    }
}
