package dev.myllm.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Utf8StreamTest {
    @Test
    void holdsBackIncompleteCharactersUntilTheyComplete() {
        Utf8Stream s = new Utf8Stream();
        byte[] e = "é".getBytes(StandardCharsets.UTF_8);       // C3 A9
        byte[] face = "😀".getBytes(StandardCharsets.UTF_8);   // F0 9F 98 80
        assertThat(s.push(new byte[]{'a', e[0]})).isEqualTo("a");
        assertThat(s.pendingBytes()).isEqualTo(1);
        assertThat(s.push(new byte[]{e[1], face[0]})).isEqualTo("é");
        assertThat(s.push(new byte[]{face[1], face[2]})).isEmpty();
        assertThat(s.push(new byte[]{face[3], '!'})).isEqualTo("😀!");
        assertThat(s.pendingBytes()).isZero();
    }

    @Test
    void invalidBytesBecomeReplacementCharactersInsteadOfWaitingForever() {
        Utf8Stream s = new Utf8Stream();
        assertThat(s.push(new byte[]{(byte) 0x80, 'x'})).isEqualTo("\uFFFDx"); // stray continuation
        assertThat(s.push(new byte[]{(byte) 0xFF})).isEqualTo("\uFFFD");         // never valid
        assertThat(s.push(new byte[]{(byte) 0xE2, (byte) 0x82})).isEmpty();       // first 2 of €
        assertThat(s.flush()).isEqualTo("\uFFFD");                                  // stream ended early
    }
}
