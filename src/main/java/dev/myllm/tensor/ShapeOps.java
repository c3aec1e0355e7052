package dev.myllm.tensor;

import java.util.ArrayList;
import java.util.List;

/** Reshape, transpose, narrow, split, concat and masked fill, with their backward passes. */
final class ShapeOps {
    private ShapeOps() {
    }

    static Tensor reshape(Tensor a, int... newShape) {
        int[] shape = newShape.clone();
        int infer = -1, known = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("reshape: only one dimension can be -1 in " + Shape.str(newShape));
                infer = i;
            } else {
                known *= shape[i];
            }
        }
        if (infer >= 0 && known != 0 && a.data.length % known == 0) shape[infer] = a.data.length / known;
        if (Shape.size(shape) != a.data.length || infer >= 0 && shape[infer] < 0) {
            throw new IllegalArgumentException("reshape: cannot view shape " + Shape.str(a.shape) + " as " + Shape.str(newShape));
        }
        // Storage is contiguous, so the view shares the array; its gradient has the same layout.
        return Tensor.result(a.data, shape, g -> {
            float[] ga = a.gradBuffer();
            for (int i = 0; i < g.length; i++) ga[i] += g[i];
        }, a);
    }

    static Tensor transpose(Tensor a, int d0, int d1) {
        int rank = a.shape.length;
        int x = Shape.dim(d0, rank), y = Shape.dim(d1, rank);
        int[] perm = new int[rank];
        for (int i = 0; i < rank; i++) perm[i] = i;
        perm[x] = y;
        perm[y] = x;
        int[] shape = a.shape.clone();
        shape[x] = a.shape[y];
        shape[y] = a.shape[x];
        int[] src = permutedOffsets(a.shape, perm);
        float[] out = Arena.uninitialized(a.data.length);
        for (int i = 0; i < out.length; i++) out[i] = a.data[src[i]];
        return Tensor.result(out, shape, g -> {
            float[] ga = a.gradBuffer();
            for (int i = 0; i < g.length; i++) ga[src[i]] += g[i];
        }, a);
    }

    /** For each element of the permuted tensor (row-major), its flat offset in the original. */
    private static int[] permutedOffsets(int[] shape, int[] perm) {
        int rank = shape.length;
        int[] stride = new int[rank];
        for (int i = rank - 1, s = 1; i >= 0; i--) {
            stride[i] = s;
            s *= shape[i];
        }
        int[] outShape = new int[rank], outStride = new int[rank];
        for (int i = 0; i < rank; i++) {
            outShape[i] = shape[perm[i]];
            outStride[i] = stride[perm[i]];
        }
        return Shape.offsets(outShape, outStride);
    }

    static Tensor narrow(Tensor a, int dim, int start, int length) {
        int d = Shape.dim(dim, a.shape.length);
        if (start < 0 || length < 0 || start + length > a.shape[d]) {
            throw new IllegalArgumentException("narrow: range [" + start + ", " + (start + length) + ") outside dimension "
                    + d + " of shape " + Shape.str(a.shape));
        }
        int outer = Shape.prod(a.shape, 0, d), inner = Shape.prod(a.shape, d + 1, a.shape.length);
        int srcRow = a.shape[d] * inner, dstRow = length * inner;
        int[] shape = a.shape.clone();
        shape[d] = length;
        float[] out = Arena.uninitialized(outer * dstRow);
        for (int o = 0; o < outer; o++) System.arraycopy(a.data, o * srcRow + start * inner, out, o * dstRow, dstRow);
        return Tensor.result(out, shape, g -> {
            float[] ga = a.gradBuffer();
            for (int o = 0; o < outer; o++) {
                int base = o * srcRow + start * inner;
                for (int i = 0; i < dstRow; i++) ga[base + i] += g[o * dstRow + i];
            }
        }, a);
    }

    static List<Tensor> split(Tensor a, int size, int dim) {
        int d = Shape.dim(dim, a.shape.length);
        if (size <= 0) throw new IllegalArgumentException("split: size must be positive, got " + size);
        List<Tensor> parts = new ArrayList<>();
        for (int s = 0; s < a.shape[d]; s += size) parts.add(narrow(a, d, s, Math.min(size, a.shape[d] - s)));
        return parts;
    }

    static Tensor concat(List<Tensor> parts, int dim) {
        if (parts.isEmpty()) throw new IllegalArgumentException("concat: no tensors");
        int[] first = parts.get(0).shape;
        int d = Shape.dim(dim, first.length);
        int total = 0;
        for (Tensor p : parts) {
            boolean ok = p.shape.length == first.length;
            for (int i = 0; ok && i < first.length; i++) ok = i == d || p.shape[i] == first[i];
            if (!ok) throw Shape.mismatch("concat along dim " + d, first, p.shape);
            total += p.shape[d];
        }
        int outer = Shape.prod(first, 0, d), inner = Shape.prod(first, d + 1, first.length);
        int[] shape = first.clone();
        shape[d] = total;
        float[] out = Arena.uninitialized(Shape.size(shape));
        int dstRow = total * inner;
        int offset = 0;
        for (Tensor p : parts) {
            int row = p.shape[d] * inner;
            for (int o = 0; o < outer; o++) System.arraycopy(p.data, o * row, out, o * dstRow + offset, row);
            offset += row;
        }
        Tensor[] inputs = parts.toArray(new Tensor[0]);
        return Tensor.result(out, shape, g -> {
            int off = 0;
            for (Tensor p : inputs) {
                int row = p.shape[d] * inner;
                if (p.requiresGrad()) {
                    float[] gp = p.gradBuffer();
                    for (int o = 0; o < outer; o++) {
                        for (int i = 0; i < row; i++) gp[o * row + i] += g[o * dstRow + off + i];
                    }
                }
                off += row;
            }
        }, inputs);
    }

    static Tensor maskedFillCausal(Tensor a, float value) {
        if (a.shape.length < 2) throw new IllegalArgumentException("maskedFillCausal needs at least 2 dimensions, shape " + Shape.str(a.shape));
        int rows = a.shape[a.shape.length - 2], cols = a.shape[a.shape.length - 1];
        int mats = a.data.length / Math.max(1, rows * cols);
        float[] out = a.data.clone();
        for (int m = 0; m < mats; m++) {
            for (int i = 0; i < rows; i++) {
                for (int j = i + 1; j < cols; j++) out[(m * rows + i) * cols + j] = value;
            }
        }
        return Tensor.result(out, a.shape, g -> {
            float[] ga = a.gradBuffer();
            for (int m = 0; m < mats; m++) {
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j <= Math.min(i, cols - 1); j++) ga[(m * rows + i) * cols + j] += g[(m * rows + i) * cols + j];
                }
            }
        }, a);
    }

    static Tensor maskedFill(Tensor a, Tensor mask, float value) {
        int[] shape = Broadcast.shape("maskedFill", a.shape, mask.shape);
        if (!Shape.same(shape, a.shape)) throw Shape.mismatch("maskedFill (the mask must broadcast to the input)", a.shape, mask.shape);
        int[] map = Broadcast.indexMap(shape, mask.shape);
        float[] out = a.data.clone();
        for (int i = 0; i < out.length; i++) if (mask.data[map[i]] != 0f) out[i] = value;
        return Tensor.result(out, a.shape, g -> {
            float[] ga = a.gradBuffer();
            for (int i = 0; i < g.length; i++) if (mask.data[map[i]] == 0f) ga[i] += g[i];
        }, a);
    }
}
