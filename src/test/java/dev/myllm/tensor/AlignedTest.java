package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Where a float array's elements start a cache line: fixed only when objects are aligned to a
 * line, at the index past the array header; the tests' JVM (like the launcher's) aligns them.
 */
class AlignedTest {
    @Test
    void theIndexPastTheHeaderOnlyWhenObjectsStartOnLines() {
        assertThat(Aligned.floatOffset(8, false, true)).isEqualTo(-1);
        assertThat(Aligned.floatOffset(16, false, true)).isEqualTo(-1);
        assertThat(Aligned.floatOffset(32, false, true)).isEqualTo(-1);
        assertThat(Aligned.floatOffset(64, false, true)).isEqualTo(12);   // 16-byte header
        assertThat(Aligned.floatOffset(128, false, true)).isEqualTo(12);
        assertThat(Aligned.floatOffset(64, true, true)).isEqualTo(13);    // compact headers: 12 bytes
        assertThat(Aligned.floatOffset(64, true, false)).isEqualTo(13);
        assertThat(Aligned.floatOffset(64, false, false)).isEqualTo(-1);  // a header this code does not know
    }

    @Test
    void thisJvmsOffsetComesFromItsOwnFlags() {
        HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        int alignment = Integer.parseInt(vm.getVMOption("ObjectAlignmentInBytes").getValue());
        boolean compact = Boolean.parseBoolean(vm.getVMOption("UseCompactObjectHeaders").getValue());
        boolean compressed = Boolean.parseBoolean(vm.getVMOption("UseCompressedClassPointers").getValue());
        assertThat(alignment).as("the build's test JVM aligns objects to lines, as the launcher does").isEqualTo(64);
        assertThat(Aligned.floatOffset()).isEqualTo(Aligned.floatOffset(alignment, compact, compressed)).isGreaterThanOrEqualTo(12);
        assertThat(Aligned.base()).isEqualTo(Aligned.floatOffset());
    }
}
