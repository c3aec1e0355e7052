package dev.myllm.util;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProgressBarsTest {
    @Test
    void noBarIsDrawnWithoutATerminal() {
        // the tests run with their output redirected, as a pipe or a CI log does
        assertThat(ProgressBars.shown()).isFalse();
    }
}
