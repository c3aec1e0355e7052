package dev.myllm.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HeapAdviceTest {
    private static final long GIB = 1L << 30;

    @Test
    void suggestsTheLargestHeapTheMachineHolds() {
        String msg = HeapAdvice.outOfMemory(12 * GIB, 16 * GIB);
        assertThat(msg).isEqualTo("out of memory: the Java heap is 12.0 GiB of 16.0 GiB of memory; use a smaller model,"
                + " batch size or context length, or raise the heap up to MYLLM_JAVA_OPTS=-Xmx14g (java -Xmx14g when run without ./myllm)");
    }

    @Test
    void aHeapThatAlreadyFillsTheMachineOnlySuggestsLess() {
        assertThat(HeapAdvice.outOfMemory(14 * GIB, 16 * GIB))
                .isEqualTo("out of memory: the Java heap is 14.0 GiB of 16.0 GiB of memory, most of this machine's;"
                        + " use a smaller model, batch size or context length");
    }

    @Test
    void unknownMachineMemorySuggestsDoubling() {
        assertThat(HeapAdvice.outOfMemory(3 * GIB, 0)).endsWith("or raise the heap, e.g. MYLLM_JAVA_OPTS=-Xmx6g");
    }

    @Test
    void smallHeapsInMebibytes() {
        assertThat(HeapAdvice.outOfMemory(150L << 20, 8 * GIB)).startsWith("out of memory: the Java heap is 150 MiB of 8.0 GiB of memory;")
                .contains("-Xmx7g");
    }

    @Test
    void theRunningJvmKnowsItsMachine() {
        assertThat(HeapAdvice.physicalMemory()).isGreaterThan(Runtime.getRuntime().maxMemory() / 2);
        assertThat(Errors.oneLine(new OutOfMemoryError("Java heap space"))).startsWith("out of memory: the Java heap is ")
                .doesNotContain("\n");
    }
}
