package dev.myllm.util;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ByteSizesTest {
    @Test
    void mebibytesBelowAGibibyteGibibytesWithOneDecimalAbove() {
        assertThat(ByteSizes.of(0)).isEqualTo("0 MiB");
        assertThat(ByteSizes.of(412L << 20)).isEqualTo("412 MiB");
        assertThat(ByteSizes.of((1L << 30) - (1L << 18))).isEqualTo("1.0 GiB"); // not "1024 MiB"
        assertThat(ByteSizes.of(7L << 29)).isEqualTo("3.5 GiB");
    }

    @Test
    void twoSizesThatDifferReadApart() {
        assertThat(ByteSizes.apart(412L << 20, 200L << 20)).containsExactly("412 MiB", "200 MiB");
        assertThat(ByteSizes.apart((412L << 20) + (1L << 18), 412L << 20)).containsExactly("412.3 MiB", "412.0 MiB");
        assertThat(ByteSizes.apart((3L << 30) + 1, 3L << 30)).doesNotHaveDuplicates();
        assertThat(ByteSizes.apart(3L << 30, 3L << 30)).containsExactly("3.0 GiB", "3.0 GiB");
    }
}
