package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** F16/BF16 matrices over a file's bytes: copied into our own layout on load, or read in place, with the same bits. */
class FileHalvesTest {
    /** A file's bytes of an F16/BF16 matrix: its halves row after row, at an even offset that is no multiple of 4 (as a safetensors file may place them). */
    static java.lang.foreign.MemorySegment fileBytes(PackedMatrix.Format f, float[] w, int rows, int cols) {
        PackedMatrix own = PackedMatrix.encode(f, w, rows, cols, HalfLayout.Layout.ROWS);
        var bytes = java.lang.foreign.Arena.ofAuto().allocate(own.byteSize() + 64, 64).asSlice(6, own.byteSize());
        bytes.copyFrom(own.bits);
        return bytes;
    }

    @Test
    void fileHalvesCopiedIntoOurLayoutGiveTheFileReadsWeightsAndSums() {
        // wrap copies a file's F16/BF16 rows into the layout of our own memory (panels; with
        // -Dmyllm.packed.halfPanels=false tiles, or padded rows past TILE_COLS): the same weights,
        // the bits of its own scalar twin, and (tiles and rows) the bits of reading the file's rows in place, with 1 to 3 threads, on partial tiles,
        // a last group of 1 to 3 rows, and rows wider than TILE_COLS
        Random rnd = new Random(31);
        int before = Parallel.threads();
        try {
            for (int[] s : new int[][]{{7, 1024}, {5, 37}, {6, 15}, {131, 160}, {3, HalfLayout.TILE_COLS + 16}, {1, 1}}) {
                int rows = s[0], cols = s[1];
                float[] w = KernelTestSupport.randn(rnd, rows * cols, 0.4f);
                for (PackedMatrix.Format f : new PackedMatrix.Format[]{PackedMatrix.Format.F16, PackedMatrix.Format.BF16}) {
                    PackedMatrix inPlace = PackedMatrix.wrap(f, rows, cols, fileBytes(f, w, rows, cols), PackedMatrix.Halves.MAPPED);
                    PackedMatrix copied = PackedMatrix.wrap(f, rows, cols, fileBytes(f, w, rows, cols), PackedMatrix.Halves.COPIED);
                    assertThat(inPlace.tiled).isFalse();
                    assertThat(copied.tiled).isEqualTo(HalfLayout.layout(cols) == HalfLayout.Layout.TILES);
                    assertThat(copied.byteSize()).isEqualTo(inPlace.byteSize());
                    float[] a = new float[cols], b = new float[cols];
                    for (int r = 0; r < rows; r++) {
                        inPlace.row(r, a, 0);
                        copied.row(r, b, 0);
                        assertThat(b).as("%s (%d, %d) row %d", f, rows, cols, r).containsExactly(a);
                    }
                    for (int m : new int[]{1, 3}) {
                        float[] x = KernelTestSupport.randn(rnd, m * cols, 1f), twin = new float[m];
                        for (int threads = 1; threads <= 3; threads++) {
                            Parallel.setThreads(threads);
                            float[] y0 = new float[m * rows], y1 = new float[m * rows];
                            inPlace.matmulNT(x, 0, m, y0, 0);
                            copied.matmulNT(x, 0, m, y1, 0);
                            if (copied.halfPanels == null) {
                                assertThat(y1).as("%s (%d, %d) m=%d threads %d", f, rows, cols, m, threads).containsExactly(y0);
                            } else {
                                // panels: one chain per output, where the file's rows take dot products
                                // (another order of additions): the same sums to float precision
                                KernelTestSupport.assertClose(f + " panels vs file rows", y0, y1, 1e-5, 1e-5 * Math.sqrt(cols));
                            }
                            for (int r = 0; r < rows; r++) {
                                PackedPaths.dotRowScalar(copied, r, x, 0, m, twin);
                                for (int i = 0; i < m; i++) assertThat(y1[i * rows + r]).isEqualTo(twin[i]);
                            }
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }
}
