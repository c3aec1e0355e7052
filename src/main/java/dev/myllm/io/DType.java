package dev.myllm.io;

/** The element types of the safetensors format, with their byte sizes and header codes. */
public enum DType {
    BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1),
    I16(2), U16(2), F16(2), BF16(2),
    I32(4), U32(4), F32(4),
    I64(8), U64(8), F64(8);

    private final int size;

    DType(int size) {
        this.size = size;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** The code written in a safetensors header ({@code "F32"}, {@code "BF16"}, ...). */
    public String code() {
        return name();
    }

    /** Whether {@link Safetensors#load} converts this type to float32. */
    public boolean loadable() {
        return this != F8_E5M2 && this != F8_E4M3 && this != U64;
    }

    /** The type with this header code, or null when the code is not one of the format's. */
    public static DType ofCode(String code) {
        for (DType t : values()) {
            if (t.name().equals(code)) return t;
        }
        return null;
    }
}
