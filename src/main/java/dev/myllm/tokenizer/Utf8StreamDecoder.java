package dev.myllm.tokenizer;

/** Turns token ids into text as they stream in, holding back the bytes of a UTF-8 character not yet complete. */
public final class Utf8StreamDecoder {
    private final Tokenizer tokenizer;
    private final Utf8Stream bytes = new Utf8Stream();

    public Utf8StreamDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds one token; returns the text that is now complete (possibly empty). */
    public String accept(int id) {
        return bytes.push(tokenizer.decodeBytes(new int[]{id}));
    }

    /** Adds raw bytes; returns the text that is now complete (possibly empty). */
    public String acceptBytes(byte[] raw) {
        return bytes.push(raw);
    }

    /** Ends the stream: held bytes that never completed become U+FFFD. */
    public String flush() {
        return bytes.flush();
    }
}
