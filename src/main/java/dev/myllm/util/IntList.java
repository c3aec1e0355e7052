package dev.myllm.util;

import java.util.Arrays;

/** A growable list of primitive ints, so token streams never box. */
public final class IntList {
    private int[] a;
    private int size;

    public IntList() {
        this(16);
    }

    public IntList(int capacity) {
        a = new int[Math.max(4, capacity)];
    }

    public void add(int v) {
        if (size == a.length) a = Arrays.copyOf(a, a.length + (a.length >> 1) + 16);
        a[size++] = v;
    }

    public void addAll(int[] v) {
        addAll(v, 0, v.length);
    }

    public void addAll(int[] v, int from, int len) {
        if (size + len > a.length) a = Arrays.copyOf(a, Math.max(size + len, a.length + (a.length >> 1) + 16));
        System.arraycopy(v, from, a, size, len);
        size += len;
    }

    public int get(int i) {
        if (i >= size) throw new IndexOutOfBoundsException(i);
        return a[i];
    }

    public int size() {
        return size;
    }

    public void clear() {
        size = 0;
    }

    /** The backing array; only the first {@link #size()} entries are meaningful. */
    public int[] raw() {
        return a;
    }

    public int[] toArray() {
        return Arrays.copyOf(a, size);
    }
}
